import { Module } from '@nestjs/common';
import { AppConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { ReadApiModule } from '../read-api/read-api.module';
import { ReportingModule } from '../reporting/reporting.module';
import { GraphStoreModule } from '../similarity/graph-store.module';

/** What admin commands need: config, the database and the graph store; no Kafka consumer, no HTTP. */
@Module({ imports: [AppConfigModule, DatabaseModule, GraphStoreModule, ReportingModule, ReadApiModule] })
export class CliModule {}
