import { Module } from '@nestjs/common';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { GraphStoreModule } from './graph-store.module';
import { EmbeddingIntake } from './embedding-intake';
import { GraphWriteStatus } from './graph-write-status';
import { ResilientEventApplier } from './resilient-event-applier';
import { SimilarityController } from './similarity.controller';
import { SimilarityService } from './similarity.service';

/** Kafka events in, graph changes out. */
@Module({
  imports: [GraphStoreModule],
  controllers: [SimilarityController],
  providers: [SimilarityService, ResilientEventApplier, EmbeddingIntake, DeadLetterPublisher, GraphWriteStatus],
  exports: [SimilarityService, GraphWriteStatus],
})
export class SimilarityModule {}
