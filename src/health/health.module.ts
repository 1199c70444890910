import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SimilarityModule } from '../similarity/similarity.module';
import { GraphWritesIndicator } from './graph-writes.indicator';
import { HealthController } from './health.controller';
import { KafkaConsumerIndicator } from './kafka-consumer.indicator';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), SimilarityModule],
  controllers: [HealthController],
  providers: [KafkaConsumerIndicator, GraphWritesIndicator],
})
export class HealthModule {}
