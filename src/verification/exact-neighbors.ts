import { compareNeighbors, Neighbor, passesThreshold } from '../similarity/graph/neighbor';

/** Unit-normalised vectors in one flat array, row i at [i * dimension, (i + 1) * dimension). */
export interface VectorMatrix {
  ids: string[];
  dimension: number;
  data: Float32Array;
}

/** Builds a matrix of unit vectors; zero vectors stay zero (they then match nothing). */
export function toUnitMatrix(ids: string[], vectors: ArrayLike<number>[], dimension: number): VectorMatrix {
  const data = new Float32Array(ids.length * dimension);
  vectors.forEach((vector, row) => {
    let norm = 0;
    for (let i = 0; i < dimension; i++) norm += vector[i] * vector[i];
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < dimension; i++) data[row * dimension + i] = vector[i] * scale;
  });
  return { ids, dimension, data };
}

/**
 * The exact top-k of row `row` by cosine similarity (brute force over the whole matrix), self
 * excluded, at or above the threshold, ranked by compareNeighbors. Zero vectors never qualify.
 */
export function exactTopK(matrix: VectorMatrix, row: number, k: number, threshold: number): Neighbor[] {
  const { data, dimension, ids } = matrix;
  const offset = row * dimension;
  let selfNorm = 0;
  for (let i = 0; i < dimension; i++) selfNorm += data[offset + i] * data[offset + i];
  if (selfNorm === 0) return [];
  const best: Neighbor[] = [];
  for (let other = 0; other < ids.length; other++) {
    if (other === row) continue;
    const otherOffset = other * dimension;
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < dimension; i++) {
      dot += data[offset + i] * data[otherOffset + i];
      norm += data[otherOffset + i] * data[otherOffset + i];
    }
    if (norm === 0) continue;
    const candidate = { studentId: ids[other], similarity: dot };
    if (!passesThreshold(dot, threshold)) continue;
    if (best.length === k && compareNeighbors(candidate, best[k - 1]) >= 0) continue;
    let at = best.length;
    while (at > 0 && compareNeighbors(candidate, best[at - 1]) < 0) at--;
    best.splice(at, 0, candidate);
    if (best.length > k) best.pop();
  }
  return best;
}
