import { DynamicModule, Module } from '@nestjs/common';
import { AdminConfig } from '../config/app-config';
import { AppConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { ReadApiModule } from '../read-api/read-api.module';
import { ReportingModule } from '../reporting/reporting.module';
import { GraphStoreModule } from '../similarity/graph-store.module';

/** What admin commands need: config (without Kafka's), the database and the graph store; no Kafka consumer, no HTTP. */
@Module({})
export class CliModule {
  static forRoot(config: AdminConfig): DynamicModule {
    return { module: CliModule, imports: [AppConfigModule.forRoot(config), DatabaseModule, GraphStoreModule, ReportingModule, ReadApiModule] };
  }
}
