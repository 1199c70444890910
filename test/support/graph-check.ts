import { TestEnvironment } from './harness';
import { checkList, exactGraph, listInvariantProblems } from './oracle';

/**
 * Checks the graph invariant for every student against the tests' own brute force over
 * `vectors` (test/support/oracle.ts, no production code): the stored list of each student with an
 * embedding is its exact top-K (ties within float32 precision aside), and no row starts or ends
 * at a student without one. Returns the problems found.
 */
export async function graphViolations(env: TestEnvironment, vectors: Map<string, number[]>, k: number, threshold: number): Promise<string[]> {
  const stored = await env.storedGraph();
  const problems: string[] = [];
  for (const [studentId, expected] of exactGraph(vectors, k, threshold)) {
    for (const p of checkList(studentId, stored.get(studentId) ?? [], expected, vectors).problems) problems.push(`${studentId}: ${p}`);
  }
  for (const [studentId, list] of stored) {
    if (!vectors.has(studentId)) problems.push(`${studentId} left but still has ${list.length} neighbours`);
  }
  return problems;
}

/** How far a similarity stored as float32 may fall below the float64 value it rounds. */
const FLOAT32_ROUNDING = 1e-6;

/** The recall@K the README documents for index mode: the floor its judgments hold it to. */
export const INDEX_MODE_RECALL_FLOOR = 0.98;

export interface ApproximateGraphJudgment {
  /** Broken hard invariants, which hold in index mode as in exact mode; empty when none is. */
  problems: string[];
  /** Recall@k over every student with an embedding, against the tests' brute force. */
  recall: number;
}

/**
 * Judges a graph the vector index built (index mode), where a list may miss a true neighbour but
 * never be wrong: against the tests' own brute force over `vectors`, no list is longer than k,
 * none holds an entry below the threshold, a student without an embedding, its owner or anyone
 * twice, each is sorted, every stored similarity is the true cosine (float32 aside), and no row
 * starts at a student without an embedding; and the share of the exact top-k found (recall@k),
 * for the caller to hold to INDEX_MODE_RECALL_FLOOR.
 */
export async function judgeApproximateGraph(env: TestEnvironment, vectors: Map<string, number[]>, k: number, threshold: number, tolerance = 1e-4): Promise<ApproximateGraphJudgment> {
  const stored = await env.storedGraph();
  const problems: string[] = [];
  for (const [studentId, list] of stored) {
    if (!vectors.has(studentId)) {
      problems.push(`${studentId} left but still has ${list.length} neighbours`);
      continue;
    }
    if (list.length > k) problems.push(`${studentId}: ${list.length} neighbours stored, at most ${k} allowed`);
    for (const n of list) if (n.similarity < threshold - FLOAT32_ROUNDING) problems.push(`${studentId}: ${n.studentId} stored at ${n.similarity.toFixed(5)}, below the threshold ${threshold}`);
    for (const p of listInvariantProblems(studentId, list, vectors, tolerance)) problems.push(`${studentId}: ${p}`);
  }
  let hits = 0;
  let expected = 0;
  for (const [studentId, exact] of exactGraph(vectors, k, threshold)) {
    hits += checkList(studentId, stored.get(studentId) ?? [], exact, vectors, tolerance).hits;
    expected += exact.length;
  }
  return { problems, recall: expected === 0 ? 1 : hits / expected };
}
