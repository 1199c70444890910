import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { EntityManager } from 'typeorm';
import { PartitionAssignment } from '../kafka/partition-assignment';
import { partitionOfKey } from '../kafka/partition-of-key';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { holderIndexHolds, HolderIndexStamp, PartitionHolderIndex, StudentNumbers } from './graph/partition-holder-index';
import { NeighborPoolRepository, OwnPartition } from './neighbor-pool.repository';

/** A write transaction's view of its partition as its fence locked it. */
export interface LockedPartition extends OwnPartition, HolderIndexStamp {}

/**
 * The holder indexes of the partitions this worker writes. A partition's owner is the only writer
 * of its pools, so its index is read from the database once per take (in the take's first fenced
 * transaction) and then changed by the owner's own writes, as they are made inside the
 * transaction. A transaction that fails may have changed the index for writes that never
 * committed: `forget` drops it and the next transaction reads it again.
 */
@Injectable()
export class OwnedHolderIndexes {
  private readonly kept = new Map<number, { stamp: HolderIndexStamp; index: PartitionHolderIndex }>();
  /** One numbering of the students for all the partitions' indexes: each id is stored once. */
  private readonly numbers = new StudentNumbers();

  constructor(
    private readonly pools: NeighborPoolRepository,
    private readonly metrics: WorkerMetrics,
    assignment: PartitionAssignment,
  ) {
    assignment.onAssigned(async ({ partitions }) => {
      for (const partition of [...this.kept.keys()]) if (!partitions.includes(partition)) this.forget(partition);
    });
    const kept = this.kept;
    new Gauge({
      name: 'similarity_holder_index_entries',
      help: "Pool entries in this worker's in-memory holder indexes (one per pool member of the partitions it writes)",
      registers: [metrics.registry],
      collect() {
        this.set([...kept.values()].reduce((sum, { index }) => sum + index.size, 0));
      },
    });
  }

  /** The partition's index, for the fenced transaction `db`: the kept one if it still holds, else read now. */
  async of(db: EntityManager, locked: LockedPartition): Promise<PartitionHolderIndex> {
    const kept = this.kept.get(locked.partition);
    if (kept && holderIndexHolds(kept.stamp, locked)) {
      kept.stamp = stampOf(locked);
      return kept.index;
    }
    this.kept.delete(locked.partition);
    const started = performance.now();
    const rows = await this.pools.membersOfPartition(db, locked);
    // Rows without an owner hash (written before it existed) come from every partition.
    const index = new PartitionHolderIndex(rows.filter((r) => partitionOfKey(r.owner, locked.partitionCount) === locked.partition), this.numbers);
    this.kept.set(locked.partition, { stamp: stampOf(locked), index });
    this.metrics.holderIndexReads.inc();
    this.metrics.holderIndexReadSeconds.inc((performance.now() - started) / 1000);
    return index;
  }

  forget(partition: number): void {
    this.kept.delete(partition);
  }
}

function stampOf(locked: LockedPartition): HolderIndexStamp {
  return { epoch: locked.epoch, poolsRevision: locked.poolsRevision, partitionCount: locked.partitionCount };
}
