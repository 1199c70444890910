import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { GraphPageModule } from './graph-page/graph-page.module';
import { HealthModule } from './health/health.module';
import { KafkaModule } from './kafka/kafka.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { ReadApiModule } from './read-api/read-api.module';
import { SimilarityModule } from './similarity/similarity.module';

/** The worker: one module per concern, configured by the one config object it is given. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [AppConfigModule.forRoot(config), LoggingModule, DatabaseModule, KafkaModule, MetricsModule, SimilarityModule, ReadApiModule, GraphPageModule, HealthModule],
    };
  }
}
