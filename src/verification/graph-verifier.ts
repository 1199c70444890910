import { EntityManager } from 'typeorm';
import { RunningTopK, StoredPairSimilarities, toUnitMatrix } from './exact-neighbors';
import { compareWithExact } from './list-comparison';
import { brokenRules } from './stored-list-rules';
import { VectorPage, VerificationRepository } from './verification.repository';

/** Students checked per pass over the embeddings, unless told otherwise. */
export const DEFAULT_VERIFY_CHUNK = 500;
/** Stored vectors per query of a pass: about 0.8 MB of float4s at 384 dimensions (1.5 MB as it arrives, hex-encoded). */
const VECTOR_PAGE = 500;
/** Lists kept with their problems (of each kind), unless told otherwise; beyond that they are only counted. */
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
  /** How many lists of each kind to keep with their problems (the first by student id); all are counted. */
  keepViolations?: number;
  /** Called after each chunk of checked students, for a progress display. */
  onProgress?: (checked: number, total: number) => void;
}

export interface ListProblems {
  studentId: string;
  problems: string[];
}

export interface VerifyReport {
  students: number;
  checked: number;
  /** Share of exact neighbours present in the stored lists, over the checked students. */
  recall: number;
  /** Share of checked lists exactly right. */
  exactLists: number;
  /** Checked lists that break a rule every graph keeps (stored-list-rules.ts): how many, and the first keepViolations by student id. */
  broken: { count: number; lists: ListProblems[] };
  /** Checked lists that differ from the exact ones: how many, and the first keepViolations by student id. */
  differing: { count: number; lists: ListProblems[] };
  /** Rows that start or end at a student without an embedding. */
  orphanRows: number;
}

/**
 * Measures the graph against brute force over the stored embeddings: recall, the lists that
 * differ from the exact ones, and the lists that break a hard rule (verdict.ts judges them). Reads only, and
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
  const broken: VerifyReport['broken'] = { count: 0, lists: [] };
  const differing: VerifyReport['differing'] = { count: 0, lists: [] };
  const tally = (found: VerifyReport['broken'], studentId: string, problems: string[]) => {
    if (problems.length > 0 && found.count++ < keep) found.lists.push({ studentId, problems });
  };
  for await (const chunk of chunksToCheck(repository, db, sampleIds, chunkSize)) {
    if (chunk.ids.length === 0) continue;
    const checkedVectors = toUnitMatrix(chunk.ids, chunk.vectors, dimension);
    const storedLists = await repository.storedLists(db, chunk.ids);
    const stored = chunk.ids.map((studentId) => storedLists.get(studentId) ?? []);
    const top = new RunningTopK(checkedVectors, options.k, options.threshold);
    const pairs = new StoredPairSimilarities(checkedVectors, stored);
    for await (const page of everyVector(repository, db, VECTOR_PAGE)) {
      const candidates = toUnitMatrix(page.ids, page.vectors, dimension);
      top.offer(candidates);
      pairs.offer(candidates);
    }
    chunk.ids.forEach((studentId, row) => {
      const exact = top.result(row);
      const comparison = compareWithExact(studentId, stored[row], exact, options.tolerance);
      hits += comparison.hits;
      expected += exact.length;
      if (comparison.problems.length === 0) exactLists++;
      tally(differing, studentId, comparison.problems);
      tally(broken, studentId, brokenRules(studentId, stored[row], pairs.result(row), { k: options.k, threshold: options.threshold, tolerance: options.tolerance }));
    });
    checked += chunk.ids.length;
    options.onProgress?.(checked, total);
  }
  return {
    students,
    checked,
    recall: expected === 0 ? 1 : hits / expected,
    exactLists: checked === 0 ? 1 : exactLists / checked,
    broken,
    differing,
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
