import pgvector from 'pgvector';
import { EntityManager } from 'typeorm';
import { Neighbor } from '../similarity/graph/neighbor';
import { exactTopK, toUnitMatrix } from './exact-neighbors';
import { compareWithExact } from './list-comparison';

export interface VerifyOptions {
  k: number;
  threshold: number;
  /** Check this many random students instead of all (the brute force is O(students^2)). */
  sample?: number;
  tolerance?: number;
  /** Called after each checked student, for a progress display. */
  onProgress?: (checked: number, total: number) => void;
}

export interface VerifyReport {
  students: number;
  checked: number;
  /** Share of exact neighbours present in the stored lists, over the checked students. */
  recall: number;
  /** Share of checked lists exactly right. */
  exactLists: number;
  /** Students whose list is wrong, with what is wrong; ordered by student id. */
  violations: { studentId: string; problems: string[] }[];
  /** Rows that start or end at a student without an embedding. */
  orphanRows: number;
}

/** Checks the graph invariant against brute force over the stored embeddings. Reads only. */
export async function verifyGraph(db: EntityManager, options: VerifyOptions): Promise<VerifyReport> {
  const embeddings: { student_id: string; vec: string }[] = await db.query('SELECT student_id, vec::text AS vec FROM student_embeddings ORDER BY student_id');
  const dimension = embeddings.length > 0 ? pgvector.fromSql(embeddings[0].vec).length : 0;
  const matrix = toUnitMatrix(embeddings.map((e) => e.student_id), embeddings.map((e) => pgvector.fromSql(e.vec) as number[]), dimension);

  const stored = new Map<string, Neighbor[]>();
  const rows: { a: string; b: string; sim: number }[] = await db.query('SELECT a, b, sim FROM student_similarity ORDER BY a, sim DESC, b');
  for (const row of rows) {
    if (!stored.has(row.a)) stored.set(row.a, []);
    stored.get(row.a)!.push({ studentId: row.b, similarity: Number(row.sim) });
  }
  const present = new Set(matrix.ids);
  const orphanRows = rows.filter((r) => !present.has(r.a) || !present.has(r.b)).length;

  const rowsToCheck = chooseRows(matrix.ids.length, options.sample);
  let hits = 0;
  let expected = 0;
  let exactLists = 0;
  const violations: VerifyReport['violations'] = [];
  for (const [i, row] of rowsToCheck.entries()) {
    const studentId = matrix.ids[row];
    const exact = exactTopK(matrix, row, options.k, options.threshold);
    const comparison = compareWithExact(studentId, stored.get(studentId) ?? [], exact, options.tolerance);
    hits += comparison.hits;
    expected += exact.length;
    if (comparison.problems.length === 0) exactLists++;
    else violations.push({ studentId, problems: comparison.problems });
    options.onProgress?.(i + 1, rowsToCheck.length);
  }
  violations.sort((x, y) => (x.studentId < y.studentId ? -1 : 1));
  return {
    students: matrix.ids.length,
    checked: rowsToCheck.length,
    recall: expected === 0 ? 1 : hits / expected,
    exactLists: rowsToCheck.length === 0 ? 1 : exactLists / rowsToCheck.length,
    violations,
    orphanRows,
  };
}

function chooseRows(total: number, sample?: number): number[] {
  const all = Array.from({ length: total }, (_, i) => i);
  if (!sample || sample >= total) return all;
  // A fixed stride keeps the sample spread out and repeatable.
  const stride = total / sample;
  return Array.from({ length: sample }, (_, i) => Math.floor(i * stride));
}
