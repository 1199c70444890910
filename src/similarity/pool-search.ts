import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { EmbeddingRepository, NearestAndEntering, NeighborSearch } from './embedding.repository';

export interface PoolSearchRequest {
  mode: NeighborSearch['mode'];
  threshold: number;
  /** The students a pool holds: the exact search returns this many. */
  poolSize: number;
  /** How far an index search reaches (at least the pool's size); see nearestAndEntering. */
  reach: number;
}

/**
 * The searches that fill pools: a moved student's own, a refill, a rebuild. An index walk also
 * looks for the student itself; one that never reached it searched the wrong region (W1: whole
 * lists wrong, which the pool rules never repair), so that student is searched exactly.
 */
@Injectable()
export class PoolSearch {
  constructor(private readonly embeddings: EmbeddingRepository) {}

  async search(db: EntityManager, studentIds: string[], request: PoolSearchRequest): Promise<{ found: Map<string, NearestAndEntering>; lostWalks: number }> {
    const { mode, threshold, poolSize, reach } = request;
    if (mode === 'exact') return { found: await this.exactly(db, studentIds, poolSize, threshold), lostWalks: 0 };
    const found = await this.embeddings.nearestAndEntering(db, studentIds, { limit: Math.max(poolSize, reach), threshold, mode }, poolSize);
    const lost = [...found].filter(([, f]) => !f.reachedSelf).map(([id]) => id);
    for (const [id, exact] of await this.exactly(db, lost, poolSize, threshold)) found.set(id, exact);
    return { found, lostWalks: lost.length };
  }

  private async exactly(db: EntityManager, studentIds: string[], poolSize: number, threshold: number): Promise<Map<string, NearestAndEntering>> {
    const found = await this.embeddings.nearest(db, studentIds, { limit: poolSize, threshold, mode: 'exact' });
    return new Map([...found].map(([id, neighbors]) => [id, { neighbors, reach: neighbors[neighbors.length - 1]?.similarity ?? threshold, reachedSelf: true }]));
  }
}
