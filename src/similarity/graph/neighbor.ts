/** A scored neighbour: `similarity` is cosine similarity in [-1, 1]. */
export interface Neighbor {
  studentId: string;
  similarity: number;
}

/**
 * The ranking the whole graph uses: higher similarity first, ties broken by the smaller student
 * id. Negative when `x` ranks before `y`.
 */
export function compareNeighbors(x: Neighbor, y: Neighbor): number {
  if (x.similarity !== y.similarity) return y.similarity > x.similarity ? 1 : -1;
  return x.studentId < y.studentId ? -1 : x.studentId > y.studentId ? 1 : 0;
}

/** Whether a similarity may appear in the graph at all (NaN never may). */
export function passesThreshold(similarity: number, threshold: number): boolean {
  return Number.isFinite(similarity) && similarity >= threshold;
}
