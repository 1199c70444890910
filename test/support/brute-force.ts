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
