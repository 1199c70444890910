import { TestEnvironment } from './harness';
import { checkList, exactGraph } from './oracle';

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

/** Recall@k of the stored graph over every student with an embedding, by the tests' brute force. */
export async function graphRecall(env: TestEnvironment, vectors: Map<string, number[]>, k: number, threshold: number): Promise<number> {
  const stored = await env.storedGraph();
  let hits = 0;
  let expected = 0;
  for (const [studentId, exact] of exactGraph(vectors, k, threshold)) {
    hits += checkList(studentId, stored.get(studentId) ?? [], exact, vectors).hits;
    expected += exact.length;
  }
  return expected === 0 ? 1 : hits / expected;
}
