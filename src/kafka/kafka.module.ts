import { Global, Module } from '@nestjs/common';
import { DeadLetterPublisher } from './dead-letter.publisher';

@Global()
@Module({ providers: [DeadLetterPublisher], exports: [DeadLetterPublisher] })
export class KafkaModule {}
