import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ConsumerLagReader } from '../kafka/consumer-lag.reader';

/**
 * Terminus has no Kafka lag indicator: this one compares the consumer group's committed offsets
 * with the topic's latest offsets, and is down above MAX_CONSUMER_LAG or when Kafka is unreachable.
 */
@Injectable()
export class KafkaConsumerLagIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly lagReader: ConsumerLagReader,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async isHealthy<Key extends string>(key: Key) {
    const indicator = this.health.check(key);
    const maxLag = this.config.kafka.maxConsumerLag;
    try {
      const partitions = await withTimeout(this.lagReader.lagByPartition(), 3000);
      const totalLag = partitions.reduce((sum, p) => sum + p.lag, 0);
      const details = { topic: this.config.kafka.topic, totalLag, maxLag, partitions };
      return totalLag <= maxLag ? indicator.up(details) : indicator.down({ ...details, message: `consumer lag ${totalLag} is above ${maxLag}` });
    } catch (error) {
      return indicator.down({ message: `Kafka unreachable: ${(error as Error).message}` });
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
