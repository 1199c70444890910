import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { repairTopicName } from './co-partitioning';
import { ConsumerStatus } from './consumer-status';
import { KafkaConnection } from './kafka-connection';

/**
 * Records waiting on partition p of the co-partitioned topics: p's events and p's repairs, both a
 * backlog of the graph, and both waiting for the same member.
 */
export interface PartitionLag {
  partition: number;
  lag: number;
  /** The same, per topic. */
  byTopic: Record<string, number>;
}

/** The group's lag per partition, as read at `readAt` (ms since the epoch). */
export interface LagReading {
  readAt: number;
  partitions: PartitionLag[];
}

/** Lag of one partition: how many records lie past the group's committed offset. */
export function partitionLag(latestOffset: string, committedOffset: string, earliestOffset: string): number {
  const end = BigInt(latestOffset);
  // -1: the group has committed nothing yet, so everything still retained is unread.
  const start = committedOffset === '-1' ? BigInt(earliestOffset) : BigInt(committedOffset);
  return Number(end > start ? end - start : 0n);
}

/** One topic's end offsets and the group's committed offsets on it, as the Kafka admin reports them. */
export interface TopicOffsets {
  topic: string;
  ends: { partition: number; high: string; low: string }[];
  committed: { partition: number; offset: string }[];
}

/** The group's lag per partition, summed over co-partitioned topics, in partition order. */
export function lagByPartition(topics: readonly TopicOffsets[]): PartitionLag[] {
  const byPartition = new Map<number, PartitionLag>();
  for (const { topic, ends, committed } of topics) {
    const committedAt = new Map(committed.map((p) => [p.partition, p.offset]));
    for (const end of ends) {
      const lag = partitionLag(end.high, committedAt.get(end.partition) ?? '-1', end.low);
      const entry = byPartition.get(end.partition) ?? { partition: end.partition, lag: 0, byTopic: {} };
      entry.lag += lag;
      entry.byTopic[topic] = lag;
      byPartition.set(end.partition, entry);
    }
  }
  return [...byPartition.values()].sort((x, y) => x.partition - y.partition);
}

/**
 * Reads the worker group's lag per partition (events and repairs) on a timer (LAG_POLL_INTERVAL_MS), so that health
 * probes and metric scrapes serve the last reading instead of calling Kafka on every request.
 */
@Injectable()
export class ConsumerLagMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private reading: LagReading | null = null;
  private failure: string | null = null;

  constructor(
    private readonly kafka: KafkaConnection,
    private readonly status: ConsumerStatus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(ConsumerLagMonitor.name);
  }

  onApplicationBootstrap(): void {
    // Until the first reading, look again every second: the consumer may still be joining.
    const poll = () => {
      void this.read().then((read) => {
        if (this.timer) this.timer = setTimeout(poll, read ? this.config.kafka.lagPollIntervalMs : 1000).unref();
      });
    };
    this.timer = setTimeout(poll, 0).unref();
  }

  /** The last successful reading; null before the first one. */
  latest(): LagReading | null {
    return this.reading;
  }

  /** Why the last attempt failed; null when it succeeded. */
  lastFailure(): string | null {
    return this.failure;
  }

  /** Reads the lag; false when it did not try (the topic may not exist yet). */
  private async read(): Promise<boolean> {
    // Until the consumer has found its topic, asking for the offsets of a missing topic would make
    // the shared admin's metadata requests fail for every later call too.
    const { phase } = this.status.snapshot();
    if (phase === 'starting' || phase === 'waiting-for-topic') return false;
    try {
      const admin = await this.kafka.admin();
      const { topic, groupId } = this.config.kafka;
      const topics = [topic, repairTopicName(topic)];
      const [ends, committed] = await Promise.all([Promise.all(topics.map((t) => admin.fetchTopicOffsets(t))), admin.fetchOffsets({ groupId, topics })]);
      const offsets = topics.map((t, i) => ({ topic: t, ends: ends[i], committed: committed.find((c) => c.topic === t)?.partitions ?? [] }));
      this.reading = { readAt: Date.now(), partitions: lagByPartition(offsets) };
      this.failure = null;
    } catch (error) {
      if (this.failure === null) this.logger.warn({ err: error }, 'cannot read the consumer lag');
      this.failure = (error as Error).message;
    }
    return true;
  }

  onApplicationShutdown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
