import { Module } from '@nestjs/common';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { GraphStoreModule } from './graph-store.module';
import { EmbeddingIntake } from './embedding-intake';
import { GraphWriteStatus } from './graph-write-status';
import { MisroutedEvents } from './misrouted-events';
import { OwnedHolderIndexes } from './owned-holder-indexes';
import { PartitionOwnership } from './partition-ownership';
import { RepairController } from './repair.controller';
import { RepairIntake } from './repair-intake';
import { RepairPublisher } from './repair.publisher';
import { ResilientEventApplier } from './resilient-event-applier';
import { SimilarityController } from './similarity.controller';
import { SimilarityService } from './similarity.service';

/** Kafka events and repairs in, graph changes and repairs out; writes only the partitions this worker owns. */
@Module({
  imports: [GraphStoreModule],
  controllers: [SimilarityController, RepairController],
  providers: [SimilarityService, PartitionOwnership, OwnedHolderIndexes, MisroutedEvents, RepairPublisher, ResilientEventApplier, EmbeddingIntake, RepairIntake, DeadLetterPublisher, GraphWriteStatus],
  exports: [SimilarityService, GraphWriteStatus],
})
export class SimilarityModule {}
