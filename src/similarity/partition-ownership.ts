import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { EntityManager } from 'typeorm';
import { TransactionRunner } from '../database/transaction-runner';
import { PartitionAssignment } from '../kafka/partition-assignment';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { FencedError } from './fenced-error';
import { fenceCheck, PartitionOwnership as OwnerRow } from './graph/repair-protocol';
import { LockedOwnerRow, PartitionOwnerRepository } from './partition-owner.repository';

/**
 * The partitions this worker writes, and the fence every graph transaction passes first. On each
 * group join it takes every assigned partition (a new epoch each time, also for one it held
 * before: its own older transactions may have read pools another owner has since rewritten), one
 * transaction per partition, before the transport hands it any batch of the new assignment.
 */
@Injectable()
export class PartitionOwnership {
  private readonly held = new Map<number, OwnerRow>();
  /** Per partition, the end of the last batch queued: this worker's batches of one partition run one after another. */
  private readonly turns = new Map<number, Promise<unknown>>();

  constructor(
    assignment: PartitionAssignment,
    private readonly transactions: TransactionRunner,
    private readonly owners: PartitionOwnerRepository,
    private readonly metrics: WorkerMetrics,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(PartitionOwnership.name);
    assignment.onAssigned(({ memberId, partitions }) => this.takeAll(memberId, partitions));
  }

  /** Takes the given partitions for `memberId` and forgets every other one. */
  async takeAll(memberId: string, partitions: readonly number[]): Promise<void> {
    for (const partition of [...this.held.keys()]) if (!partitions.includes(partition)) this.held.delete(partition);
    for (const partition of partitions) {
      this.held.delete(partition);
      const epoch = await this.transactions.run((db) => this.owners.take(db, partition, memberId)).catch((error: Error) => {
        this.logger.warn({ partition, memberId, err: error }, 'taking the partition failed: the next batch tries again');
        throw error;
      });
      this.held.set(partition, { partition, epoch, memberId });
      this.logger.info({ partition, epoch, memberId }, 'partition taken');
    }
  }

  /**
   * Runs `work` once this worker's earlier batches of the partition have ended: a partition's
   * events batch and repairs batch wait for each other here, not on the owner row with a database
   * connection held, so the owner row's wait is only ever another writer's.
   */
  async inTurn<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const previous = this.turns.get(partition) ?? Promise.resolve();
    const queued = performance.now();
    const run = previous.catch(() => undefined).then(() => {
      this.metrics.partitionTurnWait.observe((performance.now() - queued) / 1000);
      return work();
    });
    this.turns.set(partition, run);
    try {
      return await run;
    } finally {
      if (this.turns.get(partition) === run) this.turns.delete(partition);
    }
  }

  /** The take this worker holds of the partition, if any. */
  heldOf(partition: number): OwnerRow | undefined {
    return this.held.get(partition);
  }

  /**
   * First thing in a graph write transaction of the partition: locks its owner row until the
   * transaction ends and throws FencedError unless this worker's take is still the latest; returns
   * the row as locked.
   */
  async fence(db: EntityManager, partition: number): Promise<LockedOwnerRow> {
    const held = this.held.get(partition);
    if (!held) throw new FencedError(partition, 'this worker has not taken it');
    let stored = await this.owners.lockForWriteIfFree(db, partition);
    if (stored === 'held elsewhere') {
      const waitStarted = performance.now();
      stored = await this.owners.lockForWrite(db, partition);
      this.metrics.ownerLockWait.observe((performance.now() - waitStarted) / 1000);
    } else {
      this.metrics.ownerLockWait.observe(0);
    }
    const check = fenceCheck(held, stored);
    if (!check.ok) {
      this.metrics.fenced.inc();
      throw new FencedError(partition, check.reason);
    }
    return stored!;
  }
}
