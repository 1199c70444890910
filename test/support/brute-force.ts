import { compareNeighbors, Neighbor } from '../../src/similarity/graph/neighbor';

export function cosine(x: number[], y: number[]): number {
  let dot = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i] * y[i];
    nx += x[i] * x[i];
    ny += y[i] * y[i];
  }
  return dot / Math.sqrt(nx * ny);
}

/** The exact top-K of every student, computed here from the vectors, independent of the service. */
export function bruteForceGraph(vectors: Map<string, number[]>, k: number, threshold: number): Map<string, Neighbor[]> {
  const ids = [...vectors.keys()];
  const graph = new Map<string, Neighbor[]>();
  for (const id of ids) {
    const v = vectors.get(id)!;
    const scored: Neighbor[] = [];
    for (const other of ids) {
      if (other === id) continue;
      const similarity = cosine(v, vectors.get(other)!);
      if (similarity >= threshold) scored.push({ studentId: other, similarity });
    }
    graph.set(id, scored.sort(compareNeighbors).slice(0, k));
  }
  return graph;
}

/**
 * Differences between a stored list and the exact one. Two neighbours whose exact similarities
 * are within `tolerance` may swap places (float32 storage cannot order them reliably), and one
 * at the cut-off may be replaced by an equally similar one.
 */
export function listDifferences(stored: Neighbor[], exact: Neighbor[], tolerance = 1e-4): string[] {
  const problems: string[] = [];
  if (stored.length !== exact.length) problems.push(`has ${stored.length} neighbours, expected ${exact.length}`);
  const n = Math.min(stored.length, exact.length);
  for (let i = 0; i < n; i++) {
    const s = stored[i];
    const e = exact[i];
    if (Math.abs(s.similarity - e.similarity) > tolerance) {
      problems.push(`rank ${i}: ${s.studentId}@${s.similarity.toFixed(5)} but exact ${e.studentId}@${e.similarity.toFixed(5)}`);
    } else if (s.studentId !== e.studentId) {
      const tieOfExact = exact.some((x) => x.studentId === s.studentId && Math.abs(x.similarity - s.similarity) <= tolerance);
      const atCutoff = Math.abs(exact[exact.length - 1].similarity - s.similarity) <= tolerance;
      if (!tieOfExact && !atCutoff) problems.push(`rank ${i}: ${s.studentId} but exact ${e.studentId}`);
    }
  }
  return problems;
}
