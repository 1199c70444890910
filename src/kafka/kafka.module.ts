import { Global, Module } from '@nestjs/common';
import { ConsumerLagReader } from './consumer-lag.reader';
import { DeadLetterPublisher } from './dead-letter.publisher';

@Global()
@Module({ providers: [DeadLetterPublisher, ConsumerLagReader], exports: [DeadLetterPublisher, ConsumerLagReader] })
export class KafkaModule {}
