import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Admin, Kafka } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { kafkaClientOptions } from '../kafka/kafka-client-options';

export interface PartitionLag {
  partition: number;
  lag: number;
}

/** Lag of one partition: how many records lie past the group's committed offset. */
export function partitionLag(latestOffset: string, committedOffset: string, earliestOffset: string): number {
  const end = BigInt(latestOffset);
  // -1: the group has committed nothing yet, so everything still retained is unread.
  const start = committedOffset === '-1' ? BigInt(earliestOffset) : BigInt(committedOffset);
  return Number(end > start ? end - start : 0n);
}

/**
 * Terminus has no Kafka lag indicator: this one compares the consumer group's committed offsets
 * with the topic's latest offsets through the kafkajs admin client.
 */
@Injectable()
export class KafkaConsumerLagIndicator implements OnApplicationShutdown {
  private readonly admin: Admin;
  private connected: Promise<void> | null = null;

  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.admin = new Kafka({ ...kafkaClientOptions(config.kafka, '-health'), logLevel: 0, retry: { retries: 1 } }).admin();
  }

  async consumerLag(): Promise<PartitionLag[]> {
    this.connected ??= this.admin.connect().catch((error) => {
      this.connected = null;
      throw error;
    });
    await this.connected;
    const { topic, groupId } = this.config.kafka;
    const [topicOffsets, [groupOffsets]] = await Promise.all([
      this.admin.fetchTopicOffsets(topic),
      this.admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const committed = new Map(groupOffsets.partitions.map((p) => [p.partition, p.offset]));
    return topicOffsets.map((p) => ({ partition: p.partition, lag: partitionLag(p.high, committed.get(p.partition) ?? '-1', p.low) }));
  }

  async isHealthy<Key extends string>(key: Key) {
    const indicator = this.health.check(key);
    const maxLag = this.config.kafka.maxConsumerLag;
    try {
      const partitions = await withTimeout(this.consumerLag(), 3000);
      const totalLag = partitions.reduce((sum, p) => sum + p.lag, 0);
      const details = { topic: this.config.kafka.topic, totalLag, maxLag, partitions };
      return totalLag <= maxLag ? indicator.up(details) : indicator.down({ ...details, message: `consumer lag ${totalLag} is above ${maxLag}` });
    } catch (error) {
      return indicator.down({ message: `Kafka unreachable: ${(error as Error).message}` });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
