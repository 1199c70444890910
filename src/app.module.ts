import { Module } from '@nestjs/common';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { GraphPageModule } from './graph-page/graph-page.module';
import { HealthModule } from './health/health.module';
import { KafkaModule } from './kafka/kafka.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { ReadApiModule } from './read-api/read-api.module';
import { SimilarityModule } from './similarity/similarity.module';

@Module({
  imports: [AppConfigModule, LoggingModule, DatabaseModule, KafkaModule, MetricsModule, SimilarityModule, ReadApiModule, GraphPageModule, HealthModule],
})
export class AppModule {}
