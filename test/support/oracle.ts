/**
 * The tests' own idea of the right graph, written without any of the service's code: brute force
 * over the vectors in float64, and a check of a stored list against it. Every test that judges
 * the graph goes through here, so a bug in the service's ranking or comparison helpers cannot
 * hide behind the same bug in the test.
 */
export interface ScoredStudent {
  studentId: string;
  similarity: number;
}

export function cosineSimilarity(x: readonly number[], y: readonly number[]): number {
  let dot = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i] * y[i];
    xx += x[i] * x[i];
    yy += y[i] * y[i];
  }
  return dot / Math.sqrt(xx * yy);
}

/** Most similar first; equal similarities by the smaller student id (the contract's tie rule). */
function byRank(a: ScoredStudent, b: ScoredStudent): number {
  if (a.similarity !== b.similarity) return b.similarity - a.similarity;
  return a.studentId < b.studentId ? -1 : a.studentId > b.studentId ? 1 : 0;
}

/** The first k of `candidates` at or above the threshold, ranked. */
export function topOf(candidates: readonly ScoredStudent[], k: number, threshold: number): ScoredStudent[] {
  return candidates.filter((c) => c.similarity >= threshold).sort(byRank).slice(0, k);
}

/** The exact top-k of one student: every other student at or above the threshold, ranked, cut at k. */
export function exactNeighborsOf(studentId: string, vectors: ReadonlyMap<string, number[]>, k: number, threshold: number): ScoredStudent[] {
  const own = vectors.get(studentId)!;
  const scored: ScoredStudent[] = [];
  for (const [other, vector] of vectors) {
    if (other === studentId) continue;
    const similarity = cosineSimilarity(own, vector);
    if (similarity >= threshold) scored.push({ studentId: other, similarity });
  }
  return scored.sort(byRank).slice(0, k);
}

/** The exact top-k of every student. */
export function exactGraph(vectors: ReadonlyMap<string, number[]>, k: number, threshold: number): Map<string, ScoredStudent[]> {
  return new Map([...vectors.keys()].map((id) => [id, exactNeighborsOf(id, vectors, k, threshold)]));
}

export interface ListCheck {
  /** Stored neighbours that belong in the list: exact ones, or ties with the last exact one. */
  hits: number;
  /** What is wrong, for people; empty when the list is right. */
  problems: string[];
}

/**
 * What must hold of any stored list, exact or approximate: it does not list its owner, nor anyone
 * twice, nor anyone without an embedding; it is sorted, most similar first; every stored
 * similarity is the true cosine within `tolerance` (the float32 column).
 */
export function listInvariantProblems(studentId: string, stored: readonly ScoredStudent[], vectors: ReadonlyMap<string, number[]>, tolerance = 1e-4): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  stored.forEach((n, i) => {
    if (n.studentId === studentId) problems.push('lists itself');
    if (seen.has(n.studentId)) problems.push(`lists ${n.studentId} twice`);
    seen.add(n.studentId);
    if (i > 0 && n.similarity > stored[i - 1].similarity + tolerance) problems.push(`${n.studentId} ranked after a less similar student`);
    const vector = vectors.get(n.studentId);
    if (!vector) return void problems.push(`lists ${n.studentId}, who has no embedding`);
    const truth = cosineSimilarity(vectors.get(studentId)!, vector);
    if (!(Math.abs(truth - n.similarity) <= tolerance)) problems.push(`${n.studentId} stored at ${n.similarity.toFixed(5)}, true ${truth.toFixed(5)}`);
  });
  return problems;
}

/**
 * Judges a stored list by the vectors themselves. `tolerance` absorbs the float32 column: a
 * stored similarity may be off by that much, and a student whose true similarity ties with the
 * exact list's last one (within it) may stand in for that one.
 */
export function checkList(studentId: string, stored: readonly ScoredStudent[], exact: readonly ScoredStudent[], vectors: ReadonlyMap<string, number[]>, tolerance = 1e-4): ListCheck {
  const problems = listInvariantProblems(studentId, stored, vectors, tolerance);
  const inExact = new Set(exact.map((n) => n.studentId));
  const lastExact = exact.length > 0 ? exact[exact.length - 1].similarity : Infinity;
  let hits = 0;
  for (const n of new Map(stored.map((s) => [s.studentId, s])).values()) {
    const vector = vectors.get(n.studentId);
    if (!vector || n.studentId === studentId) continue;
    const truth = cosineSimilarity(vectors.get(studentId)!, vector);
    if (inExact.has(n.studentId) || Math.abs(truth - lastExact) <= tolerance) hits++;
    else problems.push(`${n.studentId} (${truth.toFixed(5)}) is not among the exact top ${exact.length}`);
  }
  if (stored.length !== exact.length) problems.push(`${stored.length} neighbours stored, ${exact.length} expected`);
  return { hits: Math.min(hits, exact.length), problems };
}
