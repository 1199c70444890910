import { Global, Module } from '@nestjs/common';
import { ConsumerLagMonitor } from './consumer-lag.monitor';
import { ConsumerMetrics } from './consumer-metrics';
import { ConsumerStatus } from './consumer-status';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { KafkaConnection } from './kafka-connection';

@Global()
@Module({
  providers: [KafkaConnection, DeadLetterPublisher, ConsumerLagMonitor, ConsumerStatus, ConsumerMetrics],
  exports: [KafkaConnection, DeadLetterPublisher, ConsumerLagMonitor, ConsumerStatus],
})
export class KafkaModule {}
