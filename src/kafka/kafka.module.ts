import { Global, Module } from '@nestjs/common';
import { ConsumerLagMonitor } from './consumer-lag.monitor';
import { ConsumerMetrics } from './consumer-metrics';
import { ConsumerStatus } from './consumer-status';
import { KafkaConnection } from './kafka-connection';

@Global()
@Module({
  providers: [KafkaConnection, ConsumerLagMonitor, ConsumerStatus, ConsumerMetrics],
  exports: [KafkaConnection, ConsumerLagMonitor, ConsumerStatus],
})
export class KafkaModule {}
