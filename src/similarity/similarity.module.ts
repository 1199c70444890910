import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EmbeddingRepository } from './embedding.repository';
import { NeighborPoolRepository } from './neighbor-pool.repository';
import { ResilientEventApplier } from './resilient-event-applier';
import { StudentEmbedding } from './entities/student-embedding.entity';
import { StudentSimilarity } from './entities/student-similarity.entity';
import { SimilarityController } from './similarity.controller';
import { SimilarityRepository } from './similarity.repository';
import { SimilarityService } from './similarity.service';

@Module({
  imports: [TypeOrmModule.forFeature([StudentEmbedding, StudentSimilarity])],
  controllers: [SimilarityController],
  providers: [SimilarityService, ResilientEventApplier, SimilarityRepository, EmbeddingRepository, NeighborPoolRepository],
  exports: [SimilarityService, SimilarityRepository, EmbeddingRepository, NeighborPoolRepository],
})
export class SimilarityModule {}
