import { Neighbor } from '../similarity/graph/neighbor';

export interface ListComparison {
  /** Exact neighbours found in the stored list (or replaced by an equally similar one). */
  hits: number;
  /** Human-readable differences; empty when the stored list is right. */
  problems: string[];
}

/**
 * Compares a stored list with the exact one. `tolerance` absorbs float32 storage: a stored
 * neighbour may stand in for an exact one whose similarity is within it (ties at the cut-off),
 * and stored similarities may differ from exact ones by up to it.
 */
export function compareWithExact(studentId: string, stored: Neighbor[], exact: Neighbor[], tolerance = 1e-4): ListComparison {
  const problems: string[] = [];
  const exactById = new Map(exact.map((n) => [n.studentId, n.similarity]));
  const cutoff = exact.length > 0 ? exact[exact.length - 1].similarity : Infinity;
  let hits = 0;
  for (const n of stored) {
    if (n.studentId === studentId) problems.push('lists itself');
    const exactSimilarity = exactById.get(n.studentId);
    if (exactSimilarity !== undefined) {
      hits++;
      if (Math.abs(exactSimilarity - n.similarity) > tolerance) problems.push(`${n.studentId} stored at ${n.similarity.toFixed(5)}, exact ${exactSimilarity.toFixed(5)}`);
    } else if (Math.abs(n.similarity - cutoff) <= tolerance) {
      hits++;
    } else {
      problems.push(`${n.studentId} (${n.similarity.toFixed(5)}) is not among the exact top ${exact.length}`);
    }
  }
  if (stored.length !== exact.length) problems.push(`${stored.length} neighbours stored, ${exact.length} expected`);
  for (let i = 1; i < stored.length; i++) {
    if (stored[i].similarity > stored[i - 1].similarity + tolerance) problems.push(`not ranked at ${i}`);
  }
  return { hits: Math.min(hits, exact.length), problems };
}
