import { Injectable } from '@nestjs/common';

/** Why this worker cannot write the graph, for people and probes. */
export interface GraphWriteFault {
  /** PostgreSQL's SQLSTATE, e.g. 42P01 (undefined table) or 42501 (insufficient privilege). */
  sqlstate: string;
  /** PostgreSQL's message and what has to be repaired before writes resume. */
  reason: string;
}

export interface GraphWriteBlock extends GraphWriteFault {
  /** When the worker found its writes refused, in ms since the epoch. */
  since: number;
}

/** What a report changed: whether people must be told (once each way, not once per retry). */
export type GraphWriteTransition = 'blocked' | 'fault-changed' | 'unchanged' | 'cleared';

/**
 * Whether this worker can write the graph, as its error policy finds out: blocked while any batch
 * is being retried against a fault that no retry repairs by itself (failure-classification's
 * `blocked`), clear once each such batch is applied or handed back (consumer stopping, partition
 * revoked). Counted per batch, so a batch of another partition that happens to succeed does not
 * hide one that cannot, and a batch that moved to another replica does not leave this one
 * reporting a fault it no longer sees. Written by the applier, read by readiness. No I/O.
 */
@Injectable()
export class GraphWriteStatus {
  private readonly refusedBatches = new Map<object, GraphWriteFault>();
  private latest: GraphWriteFault | null = null;
  private since = 0;

  /** The fault the worker last met while some batch is still blocked by one; null while writes go through. */
  current(): GraphWriteBlock | null {
    return this.latest && { ...this.latest, since: this.since };
  }

  /** `batch` (any object that stands for one batch's retries) was refused for `fault`. */
  refused(batch: object, fault: GraphWriteFault): GraphWriteTransition {
    const previous = this.latest;
    // Re-inserted so that the map's last entry is the fault met most recently.
    this.refusedBatches.delete(batch);
    this.refusedBatches.set(batch, fault);
    this.latest = fault;
    if (!previous) {
      this.since = Date.now();
      return 'blocked';
    }
    return previous.sqlstate === fault.sqlstate && previous.reason === fault.reason ? 'unchanged' : 'fault-changed';
  }

  /** `batch` no longer waits on the graph: applied, given up, or handed to another consumer. */
  settled(batch: object): GraphWriteTransition {
    if (!this.refusedBatches.delete(batch)) return 'unchanged';
    const previous = this.latest!;
    this.latest = [...this.refusedBatches.values()].pop() ?? null;
    if (!this.latest) return 'cleared';
    return previous.sqlstate === this.latest.sqlstate && previous.reason === this.latest.reason ? 'unchanged' : 'fault-changed';
  }
}
