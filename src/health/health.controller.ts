import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { GraphWritesIndicator } from './graph-writes.indicator';
import { KafkaConsumerIndicator } from './kafka-consumer.indicator';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly consumer: KafkaConsumerIndicator,
    private readonly graphWrites: GraphWritesIndicator,
  ) {}

  /**
   * Liveness: the process answers and its consumer has neither stopped for good nor stalled with
   * records waiting. Never depends on PostgreSQL or Kafka being up, so an outage restarts no pod.
   */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.consumer.live('kafka_consumer')]);
  }

  /**
   * Readiness of this replica: the database answers, its consumer is a running group member, and
   * the database does not refuse its graph writes (a missing table or grant, which the ping
   * cannot see). The last keeps the pod alive: restarting it repairs no schema.
   */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 2000 }),
      () => this.consumer.ready('kafka_consumer'),
      () => this.graphWrites.ready('graph_writes'),
    ]);
  }

  /** The group's lag against MAX_CONSUMER_LAG, from the last reading: for alerts, not for probes. */
  @Get('lag')
  @HealthCheck()
  lag() {
    return this.health.check([() => this.consumer.lag('kafka_consumer_lag')]);
  }
}
