import { NeighborPool } from '../../src/similarity/graph/neighbor-pool';

/**
 * The tests' stand-in for the owner's exact-mode scan: for each subject, every pool (but its own)
 * whose owner and subject both have a vector and whose current bound (or the threshold, for a
 * complete pool) the subject's similarity reaches. Written plainly here, from the pool's meaning.
 */
export function poolsSubjectsMayEnter(
  pools: ReadonlyMap<string, NeighborPool>,
  subjects: readonly string[],
  hasVector: (studentId: string) => boolean,
  similarity: (owner: string, subject: string) => number,
  threshold: number,
): Map<string, Set<string>> {
  const offers = new Map<string, Set<string>>();
  for (const subject of subjects) {
    if (!hasVector(subject)) continue;
    const entering = new Set<string>();
    for (const [owner, pool] of pools) {
      if (owner === subject || !hasVector(owner)) continue;
      if (similarity(owner, subject) >= Math.max(threshold, pool.bound?.similarity ?? threshold)) entering.add(owner);
    }
    offers.set(subject, entering);
  }
  return offers;
}
