import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AdminConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EmbeddingRepository } from '../similarity/embedding.repository';
import { Neighbor } from '../similarity/graph/neighbor';
import { SimilarityRepository } from '../similarity/similarity.repository';

export interface StudentNeighbors {
  studentId: string;
  hasEmbedding: boolean;
  neighbors: Neighbor[];
}

/** Reads stored lists for people and the downstream Recommendation API. */
@Injectable()
export class NeighborLookup {
  constructor(
    private readonly dataSource: DataSource,
    private readonly similarities: SimilarityRepository,
    private readonly embeddings: EmbeddingRepository,
    @Inject(APP_CONFIG) private readonly config: Pick<AdminConfig, 'graph' | 'vectors'>,
  ) {}

  async stored(studentId: string): Promise<StudentNeighbors> {
    const db = this.dataSource.manager;
    const [neighbors, states] = await Promise.all([
      this.similarities.neighborsOf(studentId, db),
      this.embeddings.loadStates(db, [studentId], this.config.vectors.dimension),
    ]);
    return { studentId, hasEmbedding: states.has(studentId), neighbors };
  }

  /** The exact top-K by a full scan, to set beside the stored list. */
  async exact(studentId: string): Promise<Neighbor[]> {
    const { maxNeighbors, threshold } = this.config.graph;
    const found = await this.embeddings.nearest(this.dataSource.manager, [studentId], { limit: maxNeighbors, threshold, mode: 'exact' });
    return found.get(studentId) ?? [];
  }
}
