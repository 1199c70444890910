import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { KafkaConsumerLagIndicator } from './kafka-consumer-lag.indicator';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly kafkaLag: KafkaConsumerLagIndicator,
  ) {}

  /** Liveness: the process answers. Never depends on PostgreSQL or Kafka, so they can't get it killed. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Readiness: the database answers and the consumer keeps up. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 2000 }),
      () => this.kafkaLag.isHealthy('kafka_consumer_lag'),
    ]);
  }
}
