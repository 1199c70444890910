import { compareWithExact } from '../../src/verification/list-comparison';
import { bruteForceGraph } from './brute-force';
import { TestEnvironment } from './harness';

/**
 * Checks the graph invariant for every student against brute force over `vectors`: the stored
 * list of each student with an embedding is its exact top-K (ties within float32 precision
 * aside), and no row starts or ends at a student without one. Returns the problems found.
 */
export async function graphViolations(env: TestEnvironment, vectors: Map<string, number[]>, k: number, threshold: number): Promise<string[]> {
  const stored = await env.storedGraph();
  const exact = bruteForceGraph(vectors, k, threshold);
  const problems: string[] = [];
  for (const [studentId, expected] of exact) {
    for (const p of compareWithExact(studentId, stored.get(studentId) ?? [], expected).problems) problems.push(`${studentId}: ${p}`);
  }
  for (const [studentId, list] of stored) {
    if (!vectors.has(studentId)) problems.push(`${studentId} left but still has ${list.length} neighbours`);
    for (const n of list) {
      if (!vectors.has(n.studentId)) problems.push(`${studentId} lists ${n.studentId}, who left`);
      if (!Number.isFinite(n.similarity)) problems.push(`${studentId} lists ${n.studentId} with similarity ${n.similarity}`);
    }
  }
  return problems;
}
