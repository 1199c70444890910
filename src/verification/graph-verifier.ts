import { EntityManager } from 'typeorm';
import { RunningTopK, toUnitMatrix } from './exact-neighbors';
import { compareWithExact } from './list-comparison';
import { VectorPage, VerificationRepository } from './verification.repository';

/** Students checked per pass over the embeddings, unless told otherwise. */
export const DEFAULT_VERIFY_CHUNK = 500;
/** Stored vectors per query of a pass: about 0.8 MB of float4s at 384 dimensions (1.5 MB as it arrives, hex-encoded). */
const VECTOR_PAGE = 500;
/** Violations kept with their problems, unless told otherwise; beyond that they are only counted. */
export const DEFAULT_KEPT_VIOLATIONS = 1000;

export interface VerifyOptions {
  k: number;
  threshold: number;
  /** Check this many students spread over the table instead of all (the brute force is O(students^2)). */
  sample?: number;
  tolerance?: number;
  /**
   * Students checked per pass over all stored vectors. Memory grows with it (a vector and a
   * top-k per checked student); time shrinks with it only through fewer passes.
   */
  chunkSize?: number;
  /** How many violations to keep with their problems (the first by student id); all are counted. */
  keepViolations?: number;
  /** Called after each chunk of checked students, for a progress display. */
  onProgress?: (checked: number, total: number) => void;
}

export interface VerifyReport {
  students: number;
  checked: number;
  /** Share of exact neighbours present in the stored lists, over the checked students. */
  recall: number;
  /** Share of checked lists exactly right. */
  exactLists: number;
  /** Students whose list is wrong, with what is wrong; ordered by student id; at most keepViolations. */
  violations: { studentId: string; problems: string[] }[];
  /** How many checked students have a wrong list (violations may hold only the first of them). */
  violationCount: number;
  /** Rows that start or end at a student without an embedding. */
  orphanRows: number;
}

/**
 * Checks the graph invariant against brute force over the stored embeddings. Reads only, and
 * in bounded memory: checked students go in chunks, and for each chunk every stored vector is
 * streamed past them a page at a time.
 */
export async function verifyGraph(db: EntityManager, options: VerifyOptions): Promise<VerifyReport> {
  const repository = new VerificationRepository();
  const chunkSize = options.chunkSize ?? DEFAULT_VERIFY_CHUNK;
  const keep = options.keepViolations ?? DEFAULT_KEPT_VIOLATIONS;
  const { students, dimension } = await repository.census(db);
  const orphanRows = await repository.orphanRows(db);
  const sampled = !!options.sample && options.sample < students;
  const sampleIds = sampled ? await repository.idsAtRanks(db, sampleRanks(students, options.sample!)) : null;
  const total = sampleIds?.length ?? students;

  let checked = 0;
  let hits = 0;
  let expected = 0;
  let exactLists = 0;
  let violationCount = 0;
  const violations: VerifyReport['violations'] = [];
  for await (const chunk of chunksToCheck(repository, db, sampleIds, chunkSize)) {
    if (chunk.ids.length === 0) continue;
    const top = new RunningTopK(toUnitMatrix(chunk.ids, chunk.vectors, dimension), options.k, options.threshold);
    for await (const page of everyVector(repository, db, VECTOR_PAGE)) top.offer(toUnitMatrix(page.ids, page.vectors, dimension));
    const stored = await repository.storedLists(db, chunk.ids);
    chunk.ids.forEach((studentId, row) => {
      const exact = top.result(row);
      const comparison = compareWithExact(studentId, stored.get(studentId) ?? [], exact, options.tolerance);
      hits += comparison.hits;
      expected += exact.length;
      if (comparison.problems.length === 0) exactLists++;
      else if (violationCount++ < keep) violations.push({ studentId, problems: comparison.problems });
    });
    checked += chunk.ids.length;
    options.onProgress?.(checked, total);
  }
  return {
    students,
    checked,
    recall: expected === 0 ? 1 : hits / expected,
    exactLists: checked === 0 ? 1 : exactLists / checked,
    violations,
    violationCount,
    orphanRows,
  };
}

/** The students to check with their vectors, a chunk at a time, in id order: the sample's, or everyone's. */
async function* chunksToCheck(repository: VerificationRepository, db: EntityManager, sampleIds: string[] | null, chunkSize: number): AsyncGenerator<VectorPage> {
  if (sampleIds === null) {
    yield* everyVector(repository, db, chunkSize);
    return;
  }
  for (let start = 0; start < sampleIds.length; start += chunkSize) yield repository.vectorsOf(db, sampleIds.slice(start, start + chunkSize));
}

/** Every stored vector in id order, `pageSize` at a time (keyset pages: no long-lived cursor or snapshot). */
async function* everyVector(repository: VerificationRepository, db: EntityManager, pageSize: number): AsyncGenerator<VectorPage> {
  for (let after: string | null = null; ; ) {
    const page = await repository.vectorsAfter(db, after, pageSize);
    if (page.ids.length === 0) return;
    yield page;
    after = page.ids[page.ids.length - 1];
  }
}

/** 0-based ranks of `sample` students out of `total`: a fixed stride keeps them spread out and repeatable. */
function sampleRanks(total: number, sample: number): number[] {
  const stride = total / sample;
  return Array.from({ length: Math.min(sample, total) }, (_, i) => Math.floor(i * stride));
}
