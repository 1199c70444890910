import { Global, Module } from '@nestjs/common';
import { ReportingModule } from '../reporting/reporting.module';
import { GraphStoreModule } from '../similarity/graph-store.module';
import { NeighborLookup } from './neighbor-lookup';
import { ReadApiController } from './read-api.controller';

/**
 * HTTP reads of the graph for the Recommendation API and for people. Global, so that a module
 * added to the worker (docs/extending.md) reads the graph through NeighborLookup without
 * importing this module or the graph store behind it.
 */
@Global()
@Module({ imports: [GraphStoreModule, ReportingModule], controllers: [ReadApiController], providers: [NeighborLookup], exports: [NeighborLookup] })
export class ReadApiModule {}
