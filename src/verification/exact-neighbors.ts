import { compareNeighbors, Neighbor } from '../similarity/graph/neighbor';

/** Unit-normalised vectors in one flat array, row i at [i * dimension, (i + 1) * dimension). */
export interface VectorMatrix {
  ids: string[];
  dimension: number;
  data: Float32Array;
}

/**
 * Builds a matrix of unit vectors. Zero vectors stay zero, and so do vectors of another
 * dimension: either way they then match nothing.
 */
export function toUnitMatrix(ids: string[], vectors: ArrayLike<number>[], dimension: number): VectorMatrix {
  const data = new Float32Array(ids.length * dimension);
  vectors.forEach((vector, row) => {
    if (vector.length !== dimension) return;
    let norm = 0;
    for (let i = 0; i < dimension; i++) norm += vector[i] * vector[i];
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < dimension; i++) data[row * dimension + i] = vector[i] * scale;
  });
  return { ids, dimension, data };
}

/**
 * The exact top-k of every row of `checked` by cosine similarity, gathered from candidates
 * offered a page at a time, so that the candidates (every stored vector) never need to be in
 * memory at once: memory is O((checked + page) * dimension + checked * k). Self is excluded
 * (by id), zero vectors never qualify, and ties rank by compareNeighbors.
 */
export class RunningTopK {
  private readonly best: Neighbor[][];
  /** Per checked row, the lowest similarity that may still enter: the threshold, then the k-th best. */
  private readonly floor: Float64Array;
  private readonly usable: boolean[];

  constructor(
    private readonly checked: VectorMatrix,
    private readonly k: number,
    threshold: number,
  ) {
    const rows = checked.ids.length;
    this.best = Array.from({ length: rows }, () => []);
    // NaN never passes `>=`, so a NaN threshold lets nothing in, as passesThreshold would.
    this.floor = new Float64Array(rows).fill(threshold);
    this.usable = Array.from({ length: rows }, (_, row) => isNonZero(checked.data, row * checked.dimension, checked.dimension));
  }

  /** Offers every row of `candidates` (same dimension) to every checked row. */
  offer(candidates: VectorMatrix): void {
    const { dimension, data: checkedData, ids: checkedIds } = this.checked;
    const { data, ids } = candidates;
    if (this.k === 0) return;
    for (let c = 0; c < ids.length; c++) {
      const offset = c * dimension;
      if (!isNonZero(data, offset, dimension)) continue;
      for (let row = 0; row < checkedIds.length; row++) {
        if (!this.usable[row]) continue;
        const similarity = dot(checkedData, row * dimension, data, offset, dimension);
        // Equal to the floor still goes on: the tie is settled by student id.
        if (!(similarity >= this.floor[row]) || ids[c] === checkedIds[row]) continue;
        this.insert(row, { studentId: ids[c], similarity });
      }
    }
  }

  /** The exact top-k of checked row `row` among all candidates offered so far, ranked. */
  result(row: number): Neighbor[] {
    return this.best[row];
  }

  private insert(row: number, candidate: Neighbor): void {
    const best = this.best[row];
    if (best.length === this.k && compareNeighbors(candidate, best[this.k - 1]) >= 0) return;
    let at = best.length;
    while (at > 0 && compareNeighbors(candidate, best[at - 1]) < 0) at--;
    best.splice(at, 0, candidate);
    if (best.length > this.k) best.pop();
    if (best.length === this.k) this.floor[row] = Math.max(this.floor[row], best[this.k - 1].similarity);
  }
}

function isNonZero(data: Float32Array, offset: number, dimension: number): boolean {
  for (let i = 0; i < dimension; i++) if (data[offset + i] !== 0) return true;
  return false;
}

/** Four partial sums: about twice as fast in V8 as one running sum over 384 dimensions. */
function dot(x: Float32Array, xOffset: number, y: Float32Array, yOffset: number, dimension: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dimension; i += 4) {
    s0 += x[xOffset + i] * y[yOffset + i];
    s1 += x[xOffset + i + 1] * y[yOffset + i + 1];
    s2 += x[xOffset + i + 2] * y[yOffset + i + 2];
    s3 += x[xOffset + i + 3] * y[yOffset + i + 3];
  }
  for (; i < dimension; i++) s0 += x[xOffset + i] * y[yOffset + i];
  return s0 + s1 + s2 + s3;
}

/**
 * The exact similarity of each stored pair of the checked students, gathered as the candidates
 * are offered a page at a time (the same pass RunningTopK uses). A neighbour that is never
 * offered (it has no embedding) keeps `undefined`.
 */
export class StoredPairSimilarities {
  private readonly exact: (number | undefined)[][];
  /** Neighbour id -> the (checked row, list position) pairs that name it. */
  private readonly positions = new Map<string, [number, number][]>();

  constructor(
    private readonly checked: VectorMatrix,
    stored: Neighbor[][],
  ) {
    this.exact = stored.map((list) => list.map(() => undefined));
    stored.forEach((list, row) =>
      list.forEach((neighbor, at) => {
        if (!this.positions.has(neighbor.studentId)) this.positions.set(neighbor.studentId, []);
        this.positions.get(neighbor.studentId)!.push([row, at]);
      }),
    );
  }

  /** Computes the similarity of every stored pair whose neighbour is among `candidates` (same dimension). */
  offer(candidates: VectorMatrix): void {
    const { dimension, data: checkedData } = this.checked;
    candidates.ids.forEach((id, c) => {
      for (const [row, at] of this.positions.get(id) ?? []) {
        this.exact[row][at] = dot(checkedData, row * dimension, candidates.data, c * dimension, dimension);
      }
    });
  }

  /** Per stored neighbour of checked row `row`, in list order: the pair's exact similarity. */
  result(row: number): (number | undefined)[] {
    return this.exact[row];
  }
}
