import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { TransactionRunner } from '../database/transaction-runner';
import { EmbeddingRepository, NearestWalk, NeighborSearch } from './embedding.repository';

export interface PoolSearchRequest {
  mode: NeighborSearch['mode'];
  threshold: number;
  /** The students a pool holds: the exact search returns this many. */
  poolSize: number;
  /** How many students an index search returns (at least the pool's size): beyond the pool, the walk whose pools the moved student may enter. */
  reach: number;
}

/** Index walks that never reached the student itself, by what found its pool instead. */
export interface LostWalks {
  foundByWiderWalk: number;
  searchedExactly: number;
}

/**
 * The searches that fill pools: a moved student's own, a refill, a rebuild. An index walk also
 * looks for the student itself; one that never reached it searched the wrong region (W1: whole
 * lists wrong, which the pool rules never repair). Such a student is walked again as wide as
 * the index allows (W1: about 60% found there, in a tenth of an exact search's time), and
 * searched exactly when that walk is lost too.
 */
@Injectable()
export class PoolSearch {
  constructor(
    private readonly embeddings: EmbeddingRepository,
    private readonly transactions: TransactionRunner,
  ) {}

  async search(db: EntityManager, studentIds: string[], request: PoolSearchRequest): Promise<{ found: Map<string, NearestWalk>; lostWalks: LostWalks }> {
    const { mode, threshold, poolSize, reach } = request;
    if (mode === 'exact') return { found: await this.exactly(db, studentIds, poolSize, threshold), lostWalks: { foundByWiderWalk: 0, searchedExactly: 0 } };
    const walk = (ids: string[]) => this.embeddings.walk(db, ids, { limit: Math.max(poolSize, reach), threshold, mode });
    const found = await walk(studentIds);
    let lost = lostIn(found);
    const lostAtFirst = lost.length;
    if (lost.length > 0 && this.transactions.canWidenIndexWalk) {
      const wider = await this.transactions.withWidestIndexWalk(db, () => walk(lost));
      for (const [id, search] of wider) if (search.reachedSelf) found.set(id, search);
      lost = lostIn(wider);
    }
    for (const [id, exact] of await this.exactly(db, lost, poolSize, threshold)) found.set(id, exact);
    return { found, lostWalks: { foundByWiderWalk: lostAtFirst - lost.length, searchedExactly: lost.length } };
  }

  private async exactly(db: EntityManager, studentIds: string[], poolSize: number, threshold: number): Promise<Map<string, NearestWalk>> {
    const found = await this.embeddings.nearestWithVersions(db, studentIds, { limit: poolSize, threshold, mode: 'exact' });
    return new Map([...found].map(([id, neighbors]) => [id, { neighbors, reach: neighbors[neighbors.length - 1]?.similarity ?? threshold, reachedSelf: true }]));
  }
}

function lostIn(found: Map<string, NearestWalk>): string[] {
  return [...found].filter(([, search]) => !search.reachedSelf).map(([id]) => id);
}
