import { DynamicModule, Module } from '@nestjs/common';
import { AdminConfig } from '../config/app-config';
import { AppConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { NeighborLookup } from '../read-api/neighbor-lookup';
import { ReportingModule } from '../reporting/reporting.module';
import { GraphStoreModule } from '../similarity/graph-store.module';

/**
 * What admin commands need: the admin config (no Kafka, no HTTP), the database and the graph
 * store. NeighborLookup is provided here rather than through ReadApiModule, whose HTTP controller
 * reads settings the CLI does not have.
 */
@Module({})
export class CliModule {
  static forRoot(config: AdminConfig): DynamicModule {
    return { module: CliModule, imports: [AppConfigModule.forRoot(config), DatabaseModule, GraphStoreModule, ReportingModule], providers: [NeighborLookup] };
  }
}
