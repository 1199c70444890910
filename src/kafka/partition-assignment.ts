import { Injectable } from '@nestjs/common';

/** What a module does when the group hands this member partitions (e.g. fence the previous owner). */
export type AssignmentListener = (assignment: { memberId: string; partitions: number[]; partitionCount: number }) => Promise<void>;

/**
 * The partitions this member holds of the co-partitioned topics, as the group last assigned them.
 * The batching server reports each join here, and waits for the listeners (the domain's owner
 * take-over) before handing any batch of the new assignment to a handler, so no batch is applied
 * before its partition was taken. kafkajs hands out no generation id: the join is the only signal.
 */
@Injectable()
export class PartitionAssignment {
  private readonly listeners: AssignmentListener[] = [];
  private taking: Promise<void> = Promise.resolve();
  private current: { memberId: string; partitions: number[]; partitionCount: number } | null = null;

  onAssigned(listener: AssignmentListener): void {
    this.listeners.push(listener);
  }

  /** Called by the server on each group join; the listeners run in order, once per join. */
  assigned(memberId: string, partitions: number[], partitionCount: number): void {
    const assignment = { memberId, partitions: [...partitions].sort((x, y) => x - y), partitionCount };
    this.current = assignment;
    const previous = this.taking.catch(() => undefined);
    this.taking = this.observed(previous.then(() => this.runListeners(assignment)));
  }

  /**
   * Resolves once the listeners of the latest join have run. When they failed (the database was
   * away during the take-over), the first caller runs them again for the latest assignment, and
   * rejects only if that fails too (the batch is then redelivered).
   */
  async settled(): Promise<void> {
    const taking = this.taking;
    try {
      await taking;
    } catch {
      if (this.taking === taking && this.current) this.taking = this.observed(this.runListeners(this.current));
      await this.taking;
    }
  }

  private async runListeners(assignment: { memberId: string; partitions: number[]; partitionCount: number }): Promise<void> {
    for (const listener of this.listeners) await listener(assignment);
  }

  /** A take-over may fail with no batch waiting on it (e.g. during shutdown): that is not an unhandled rejection. */
  private observed(taking: Promise<void>): Promise<void> {
    taking.catch(() => undefined);
    return taking;
  }

  /** The latest assignment, or null before the first join. */
  latest(): { memberId: string; partitions: number[]; partitionCount: number } | null {
    return this.current;
  }
}
