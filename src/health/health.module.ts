import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { KafkaConsumerLagIndicator } from './kafka-consumer-lag.indicator';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
  controllers: [HealthController],
  providers: [KafkaConsumerLagIndicator],
})
export class HealthModule {}
