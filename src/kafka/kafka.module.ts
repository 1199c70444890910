import { Global, Module } from '@nestjs/common';
import { ConsumerLagMonitor } from './consumer-lag.monitor';
import { ConsumerStatus } from './consumer-status';
import { DeadLetterPublisher } from './dead-letter.publisher';

@Global()
@Module({ providers: [DeadLetterPublisher, ConsumerLagMonitor, ConsumerStatus], exports: [DeadLetterPublisher, ConsumerLagMonitor, ConsumerStatus] })
export class KafkaModule {}
