import { Neighbor } from './neighbor';

/**
 * A walk is dense when its last student is at most this many times as far as the pool's last.
 * Students just beyond the walk are then about as near as the pool's own, so a pool whose owner
 * the walk did not reach can still take the moved student in: with the default walk of 150,
 * 98.5% of the dense stream's moves (100,000-student W1: 8.8%; a shorter walk counts more as
 * dense; see docs/performance.md).
 */
export const DENSE_WALK_SPREAD = 1.25;

/** A moved student's index walk, as the seeds see it: its nearest first, and how far it reached. */
export interface WalkForSeeds {
  neighbors: Neighbor[];
  reach: number;
}

/**
 * How many of a moved student's nearest serve as seeds: the pools that hold a seed are offered
 * the student where their bound lets it in. `dense` of them where the walk is dense, else `usual`.
 */
export function reverseSeedCount(walk: WalkForSeeds, poolCapacity: number, seeds: { usual: number; dense: number }): number {
  return isDenseWalk(walk, poolCapacity) ? seeds.dense : seeds.usual;
}

/** Whether the walk's reach is within DENSE_WALK_SPREAD of its pool's last (a walk shorter than a pool never is). */
export function isDenseWalk(walk: WalkForSeeds, poolCapacity: number): boolean {
  if (poolCapacity < 1 || walk.neighbors.length < poolCapacity) return false;
  const poolLastDistance = 1 - walk.neighbors[poolCapacity - 1].similarity;
  const reachDistance = 1 - walk.reach;
  return reachDistance <= DENSE_WALK_SPREAD * poolLastDistance;
}
