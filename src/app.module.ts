import { DynamicModule, Module, ModuleMetadata } from '@nestjs/common';
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

/** A module a deployment adds to the worker (see docs/extending.md). */
export type ModuleImport = NonNullable<ModuleMetadata['imports']>[number];

export interface AppModuleOptions {
  /** Modules of the deployment's own, booted with the worker's; they may inject what docs/extending.md lists. */
  imports?: ModuleImport[];
}

/** The worker: one module per concern, configured by the one config object it is given. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule,
        DatabaseModule,
        KafkaModule,
        MetricsModule,
        SimilarityModule,
        ReadApiModule,
        GraphPageModule,
        HealthModule,
        ...(options.imports ?? []),
      ],
    };
  }
}
