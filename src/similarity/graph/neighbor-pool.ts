import { compareNeighbors, Neighbor, passesThreshold } from './neighbor';

/**
 * A student's hidden, exact top-L list (K <= L <= K + reserve), from which the public top-K is
 * cut. Exact means: every other student NOT in `entries` ranks at or after `bound` (or, when
 * `bound` is null, has a similarity below the threshold: the pool holds every student above it).
 * Three local rules keep that true without a new search (see docs/graph-maintenance.md):
 * removing an entry, inserting a candidate that ranks before the bound, ignoring one that doesn't.
 */
export interface NeighborPool {
  /** Ranked by compareNeighbors: most similar first. */
  entries: Neighbor[];
  /** Nothing outside the pool ranks before this; null when the pool is complete. */
  bound: Neighbor | null;
}

/** The pool a fresh search of at most `capacity` results gives. */
export function poolFromSearch(results: Neighbor[], capacity: number, threshold: number): NeighborPool {
  const entries = results.filter((n) => passesThreshold(n.similarity, threshold)).sort(compareNeighbors).slice(0, capacity);
  // Fewer results than the pool holds: the search saw every student above the threshold.
  const bound = results.length < capacity ? null : entries[entries.length - 1] ?? null;
  return { entries, bound };
}

/** The pool without the given students (they left, or their similarity is about to change). */
export function removeFromPool(pool: NeighborPool, studentIds: ReadonlySet<string>): NeighborPool {
  const entries = pool.entries.filter((n) => !studentIds.has(n.studentId));
  return entries.length === pool.entries.length ? pool : { entries, bound: pool.bound };
}

/** Whether an offered student enters a pool with this bound (see offerToPool). */
export function offerEnters(candidate: Neighbor, bound: Neighbor | null, threshold: number): boolean {
  return passesThreshold(candidate.similarity, threshold) && (bound === null || compareNeighbors(candidate, bound) < 0);
}

/**
 * Offers a student at its current similarity. It enters if it passes the threshold and ranks
 * before the bound; if the pool then holds more than `capacity`, the last entry is evicted and
 * becomes the new bound. The candidate must not already be in the pool (remove it first).
 */
export function offerToPool(pool: NeighborPool, candidate: Neighbor, capacity: number, threshold: number): NeighborPool {
  if (!offerEnters(candidate, pool.bound, threshold)) return pool;
  const entries = [...pool.entries];
  let at = entries.findIndex((n) => compareNeighbors(candidate, n) < 0);
  if (at === -1) at = entries.length;
  entries.splice(at, 0, candidate);
  if (entries.length <= capacity) return { entries, bound: pool.bound };
  const evicted = entries.pop()!;
  return { entries, bound: evicted };
}

/** Whether the pool still yields an exact top-k, or needs a fresh search (a refill). */
export function poolYieldsTopK(pool: NeighborPool, k: number): boolean {
  return pool.bound === null || pool.entries.length >= k;
}

/** The public list: the first k entries. */
export function publicNeighbors(pool: NeighborPool, k: number): Neighbor[] {
  return pool.entries.slice(0, k);
}

function sameNeighbor(x: Neighbor | null, y: Neighbor | null): boolean {
  return x === y || (!!x && !!y && x.studentId === y.studentId && x.similarity === y.similarity);
}

/** Same students at the same similarities, in the same order. */
function sameNeighbors(x: Neighbor[], y: Neighbor[]): boolean {
  return x.length === y.length && x.every((n, i) => sameNeighbor(n, y[i]));
}

export function samePool(x: NeighborPool, y: NeighborPool): boolean {
  return sameNeighbor(x.bound, y.bound) && sameNeighbors(x.entries, y.entries);
}

/** What turns the public list `previous` into `next`: entries to write (new or re-scored), and students to drop. */
export function listChange(previous: Neighbor[], next: Neighbor[]): { upserts: Neighbor[]; removals: string[] } {
  const before = new Map(previous.map((n) => [n.studentId, n.similarity]));
  const after = new Set(next.map((n) => n.studentId));
  return {
    upserts: next.filter((n) => before.get(n.studentId) !== n.similarity),
    removals: previous.filter((n) => !after.has(n.studentId)).map((n) => n.studentId),
  };
}
