import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ConsumerStatus } from './consumer-status';
import { KafkaConnection } from './kafka-connection';

export interface PartitionLag {
  partition: number;
  lag: number;
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

/**
 * Reads the worker group's lag per partition on a timer (LAG_POLL_INTERVAL_MS), so that health
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
      const [topicOffsets, [groupOffsets]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const committed = new Map(groupOffsets.partitions.map((p) => [p.partition, p.offset]));
      const partitions = topicOffsets.map((p) => ({ partition: p.partition, lag: partitionLag(p.high, committed.get(p.partition) ?? '-1', p.low) }));
      this.reading = { readAt: Date.now(), partitions: partitions.sort((x, y) => x.partition - y.partition) };
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
