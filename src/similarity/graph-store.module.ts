import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EmbeddingRepository } from './embedding.repository';
import { SchemaCheck } from './schema-check';
import { StudentSimilarity } from './entities/student-similarity.entity';
import { GraphRebuilder } from './graph-rebuilder';
import { NeighborPoolRepository } from './neighbor-pool.repository';
import { PartitionOwnerRepository } from './partition-owner.repository';
import { PoolSearch } from './pool-search';
import { RebuildCheckpointRepository } from './rebuild-checkpoint.repository';
import { SimilarityRepository } from './similarity.repository';

/** The graph's storage (all its SQL) and whole-graph operations; no Kafka. Used by the worker and the CLI. */
@Module({
  imports: [TypeOrmModule.forFeature([StudentSimilarity])],
  providers: [SimilarityRepository, EmbeddingRepository, NeighborPoolRepository, PartitionOwnerRepository, RebuildCheckpointRepository, PoolSearch, GraphRebuilder, SchemaCheck],
  exports: [SimilarityRepository, EmbeddingRepository, NeighborPoolRepository, PartitionOwnerRepository, PoolSearch, GraphRebuilder],
})
export class GraphStoreModule {}
