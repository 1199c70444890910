import { NeighborPool } from './neighbor-pool';

export interface PoolSettings {
  /** K: the public list length. */
  k: number;
  /** K + reserve: the most entries a pool keeps. */
  capacity: number;
  threshold: number;
}

export interface RepairedPool {
  pool: NeighborPool;
  /** Too short to yield an exact top-K: needs a fresh search. */
  needsRefill: boolean;
}
