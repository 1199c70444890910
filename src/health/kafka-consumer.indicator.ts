import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { repairTopicName } from '../kafka/co-partitioning';
import { ConsumerLagMonitor } from '../kafka/consumer-lag.monitor';
import { ConsumerStatus } from '../kafka/consumer-status';
import { consumerLivenessProblem } from './consumer-liveness';

/**
 * This replica's Kafka consumer, for the probes: alive unless it stopped for good or stalled;
 * ready while it is a running member of its group. The group's lag is a separate check
 * (/health/lag), read from the monitor's last reading: a backlog is an alert, not a reason to take
 * every replica out of the Service. No check calls Kafka per request.
 */
@Injectable()
export class KafkaConsumerIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly status: ConsumerStatus,
    private readonly lagMonitor: ConsumerLagMonitor,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  live<Key extends string>(key: Key) {
    const indicator = this.health.check(key);
    const consumer = this.status.snapshot();
    const problem = consumerLivenessProblem(consumer, this.lagMonitor.latest(), Date.now(), {
      stallTimeoutMs: this.config.kafka.stallTimeoutMs,
      maxReadingAgeMs: 3 * this.config.kafka.lagPollIntervalMs,
    });
    const details = { phase: consumer.phase, lastProgressSecondsAgo: Math.round((Date.now() - consumer.lastProgressAt) / 1000) };
    return problem ? indicator.down({ ...details, message: problem }) : indicator.up(details);
  }

  ready<Key extends string>(key: Key) {
    const indicator = this.health.check(key);
    const { phase, detail, assignedPartitions } = this.status.snapshot();
    const details = { phase, assignedPartitions };
    return phase === 'running' ? indicator.up(details) : indicator.down({ ...details, message: detail ?? `the consumer is ${phase}` });
  }

  lag<Key extends string>(key: Key) {
    const indicator = this.health.check(key);
    const reading = this.lagMonitor.latest();
    const failure = this.lagMonitor.lastFailure();
    const maxLag = this.config.kafka.maxConsumerLag;
    if (!reading || failure) return indicator.down({ message: failure ? `cannot read the lag: ${failure}` : 'no lag reading yet' });
    const totalLag = reading.partitions.reduce((sum, p) => sum + p.lag, 0);
    const details = { topics: [this.config.kafka.topic, repairTopicName(this.config.kafka.topic)], totalLag, maxLag, readAt: new Date(reading.readAt).toISOString(), partitions: reading.partitions };
    return totalLag <= maxLag ? indicator.up(details) : indicator.down({ ...details, message: `consumer group lag ${totalLag} is above ${maxLag}` });
  }
}
