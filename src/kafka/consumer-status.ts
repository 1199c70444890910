import { Injectable } from '@nestjs/common';

/**
 * Where this replica's consumer is:
 * - starting: connecting, joining the group;
 * - waiting-for-topic: the event topic does not exist yet (see KAFKA_CREATE_TOPICS);
 * - running: a member of the group, consuming;
 * - restarting: kafkajs crashed on a retriable error and restarts the consumer itself;
 * - stopping: the process is shutting down;
 * - failed: the consumer stopped for good (a non-retriable crash): the process exits.
 */
export type ConsumerPhase = 'starting' | 'waiting-for-topic' | 'running' | 'restarting' | 'stopping' | 'failed';

export interface ConsumerSnapshot {
  phase: ConsumerPhase;
  /** Why the consumer failed or waits, for people. */
  detail: string | null;
  /** Partitions of the event topic this replica owns (empty while not running). */
  assignedPartitions: number[];
  /** Last time the consumer committed a chunk, retried against an unavailable database, or joined. */
  lastProgressAt: number;
}

/** The consumer's state as the Kafka server reports it, read by health checks. No I/O. */
@Injectable()
export class ConsumerStatus {
  private state: ConsumerSnapshot = { phase: 'starting', detail: null, assignedPartitions: [], lastProgressAt: Date.now() };
  private readonly failureListeners: ((reason: string) => void)[] = [];

  snapshot(): ConsumerSnapshot {
    return { ...this.state, assignedPartitions: [...this.state.assignedPartitions] };
  }

  waitingForTopic(detail: string): void {
    this.update({ phase: 'waiting-for-topic', detail });
  }

  joined(assignedPartitions: number[]): void {
    if (this.terminal()) return;
    this.update({ phase: 'running', detail: null, assignedPartitions, lastProgressAt: Date.now() });
  }

  restarting(detail: string): void {
    if (this.terminal()) return;
    this.update({ phase: 'restarting', detail, assignedPartitions: [] });
  }

  progressed(): void {
    this.state.lastProgressAt = Date.now();
  }

  stopping(): void {
    if (this.state.phase !== 'failed') this.update({ phase: 'stopping', detail: null });
  }

  /** The consumer stopped for good; listeners (the process owner) decide what happens next. */
  failed(reason: string): void {
    if (this.terminal()) return;
    this.update({ phase: 'failed', detail: reason, assignedPartitions: [] });
    for (const listener of this.failureListeners) listener(reason);
  }

  onFailure(listener: (reason: string) => void): void {
    this.failureListeners.push(listener);
  }

  private terminal(): boolean {
    return this.state.phase === 'failed' || this.state.phase === 'stopping';
  }

  private update(change: Partial<ConsumerSnapshot>): void {
    this.state = { ...this.state, ...change };
  }
}
