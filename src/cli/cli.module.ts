import { Module } from '@nestjs/common';
import { AdminConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { ReadApiModule } from '../read-api/read-api.module';
import { ReportingModule } from '../reporting/reporting.module';
import { GraphStoreModule } from '../similarity/graph-store.module';

/** What admin commands need: config (without Kafka's), the database and the graph store; no Kafka consumer, no HTTP. */
@Module({ imports: [AdminConfigModule, DatabaseModule, GraphStoreModule, ReportingModule, ReadApiModule] })
export class CliModule {}
