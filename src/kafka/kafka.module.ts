import { Global, Module } from '@nestjs/common';
import { ConsumerLagMonitor } from './consumer-lag.monitor';
import { ConsumerMetrics } from './consumer-metrics';
import { ConsumerStatus } from './consumer-status';
import { KafkaConnection } from './kafka-connection';
import { PartitionAssignment } from './partition-assignment';

@Global()
@Module({
  providers: [KafkaConnection, ConsumerLagMonitor, ConsumerStatus, ConsumerMetrics, PartitionAssignment],
  exports: [KafkaConnection, ConsumerLagMonitor, ConsumerStatus, PartitionAssignment],
})
export class KafkaModule {}
