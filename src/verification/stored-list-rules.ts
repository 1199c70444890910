import { Neighbor } from '../similarity/graph/neighbor';

export interface StoredListRules {
  k: number;
  threshold: number;
  /** Absorbs float32 storage of similarities. */
  tolerance?: number;
}

/**
 * What must hold of a stored list whatever the candidate search (exact or index): at most k
 * neighbours, none of them the student itself, none below the threshold, and each stored
 * similarity the pair's own. `exactSimilarities` gives the pair's similarity per stored
 * neighbour, in list order; `undefined` (a neighbour without an embedding) is left to the orphan
 * count. Returns what is broken, human-readable; empty when the list keeps every rule.
 */
export function brokenRules(studentId: string, stored: Neighbor[], exactSimilarities: (number | undefined)[], rules: StoredListRules): string[] {
  const tolerance = rules.tolerance ?? 1e-4;
  const broken: string[] = [];
  if (stored.length > rules.k) broken.push(`${stored.length} neighbours stored, more than K=${rules.k}`);
  stored.forEach((neighbor, at) => {
    if (neighbor.studentId === studentId) broken.push('lists itself');
    if (!(neighbor.similarity >= rules.threshold - tolerance)) broken.push(`${neighbor.studentId} stored at ${neighbor.similarity.toFixed(5)}, below the threshold ${rules.threshold}`);
    const exact = exactSimilarities[at];
    if (exact !== undefined && !(Math.abs(exact - neighbor.similarity) <= tolerance)) {
      broken.push(`${neighbor.studentId} stored at ${neighbor.similarity.toFixed(5)}, the pair's similarity is ${exact.toFixed(5)}`);
    }
  });
  return broken;
}
