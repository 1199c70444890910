import { Neighbor } from './neighbor';
import { NeighborPool, offerToPool, poolYieldsTopK, removeFromPool } from './neighbor-pool';

export interface PoolSettings {
  /** K: the public list length. */
  k: number;
  /** K + reserve: the most entries a pool keeps. */
  capacity: number;
  threshold: number;
}

/** A changed student `candidate` offered to the pool of `studentId`, at their current similarity. */
export interface PoolOffer {
  studentId: string;
  candidate: Neighbor;
}

export interface RepairedPool {
  pool: NeighborPool;
  /** Too short to yield an exact top-K: needs a fresh search. */
  needsRefill: boolean;
}

/**
 * Repairs the pools of unchanged students after the students in `changedStudents` moved or left:
 * each changed student is removed from every pool (a move is a delete + insert), then offered
 * again wherever an offer says so. Offers are applied in a fixed order, so the result does not
 * depend on the order they were found in.
 */
export function repairPools(
  pools: ReadonlyMap<string, NeighborPool>,
  changedStudents: ReadonlySet<string>,
  offers: PoolOffer[],
  settings: PoolSettings,
): Map<string, RepairedPool> {
  const offersByStudent = new Map<string, Map<string, Neighbor>>();
  for (const offer of offers) {
    if (changedStudents.has(offer.studentId) || offer.studentId === offer.candidate.studentId) continue;
    if (!offersByStudent.has(offer.studentId)) offersByStudent.set(offer.studentId, new Map());
    offersByStudent.get(offer.studentId)!.set(offer.candidate.studentId, offer.candidate);
  }
  const repaired = new Map<string, RepairedPool>();
  for (const [studentId, stored] of pools) {
    if (changedStudents.has(studentId)) continue;
    let pool = removeFromPool(stored, changedStudents);
    const candidates = [...(offersByStudent.get(studentId)?.values() ?? [])].sort((x, y) => (x.studentId < y.studentId ? -1 : 1));
    for (const candidate of candidates) pool = offerToPool(pool, candidate, settings.capacity, settings.threshold);
    repaired.set(studentId, { pool, needsRefill: !poolYieldsTopK(pool, settings.k) });
  }
  return repaired;
}

/**
 * The moved students' fresh pools, with every pair the batch scored offered back the other way:
 * an offer of moved student A to X's pool is also X offered to A's pool at the same similarity
 * (cosine is symmetric). Where the index search missed X, this puts it back; in exact mode the
 * pools are already exact and nothing changes. Candidates already in a pool, and the `removed`
 * students, are skipped.
 */
export function refineFreshPools(fresh: ReadonlyMap<string, NeighborPool>, offers: PoolOffer[], removed: ReadonlySet<string>, settings: PoolSettings): Map<string, NeighborPool> {
  const candidatesOf = new Map<string, Map<string, Neighbor>>();
  for (const { studentId, candidate } of offers) {
    if (!fresh.has(candidate.studentId) || studentId === candidate.studentId || removed.has(studentId)) continue;
    if (!candidatesOf.has(candidate.studentId)) candidatesOf.set(candidate.studentId, new Map());
    candidatesOf.get(candidate.studentId)!.set(studentId, { studentId, similarity: candidate.similarity });
  }
  const refined = new Map(fresh);
  for (const [owner, candidates] of candidatesOf) {
    let pool = fresh.get(owner)!;
    const present = new Set(pool.entries.map((n) => n.studentId));
    const sorted = [...candidates.values()].filter((c) => !present.has(c.studentId)).sort((x, y) => (x.studentId < y.studentId ? -1 : 1));
    for (const candidate of sorted) pool = offerToPool(pool, candidate, settings.capacity, settings.threshold);
    refined.set(owner, pool);
  }
  return refined;
}
