import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Admin, Kafka } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { kafkaClientOptions } from './kafka-client-options';

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

/** Reads the worker group's lag per partition through the kafkajs admin client. */
@Injectable()
export class ConsumerLagReader implements OnApplicationShutdown {
  private readonly admin: Admin;
  private connected: Promise<void> | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.admin = new Kafka({ ...kafkaClientOptions(config.kafka, '-admin'), logLevel: 0, retry: { retries: 1 } }).admin();
  }

  async lagByPartition(): Promise<PartitionLag[]> {
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

  async onApplicationShutdown(): Promise<void> {
    if (this.connected) await this.admin.disconnect().catch(() => undefined);
  }
}
