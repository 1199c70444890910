import * as path from 'path';
import { Client } from 'pg';
import { Worker } from 'worker_threads';
import { toUnitMatrix } from '../src/verification/exact-neighbors';
import { compareWithExact } from '../src/verification/list-comparison';
import { Neighbor } from '../src/similarity/graph/neighbor';

export const MISSED_BUCKETS = ['0', '1', '2', '3', '4', '5+'] as const;
export type MissedHistogram = Record<(typeof MISSED_BUCKETS)[number], number>;

export interface GraphQuality {
  checked: number;
  /** Share of the exact neighbours present in the stored lists. */
  recall: number;
  /** Share of lists exactly right (compareWithExact, tolerance 1e-4). */
  exactLists: number;
  /** Lists by how many exact neighbours they miss. */
  missedHistogram: MissedHistogram;
}

const THREADS = 2;
const TOLERANCE = 1e-4;

/** `count` students spread evenly over the ids (all of them when count >= ids.length). */
export function spreadSample(ids: string[], count: number): string[] {
  if (count >= ids.length) return [...ids];
  const stride = ids.length / count;
  return Array.from({ length: count }, (_, i) => ids[Math.floor(i * stride)]);
}

/** Exact top-k of the sampled students over all the given vectors, brute force on worker threads. */
export async function exactNeighbors(ids: string[], vectors: Float32Array[], sample: string[], k: number, threshold: number): Promise<Map<string, Neighbor[]>> {
  const dimension = vectors[0].length;
  const unit = toUnitMatrix(ids, vectors, dimension);
  const buffer = new SharedArrayBuffer(unit.data.byteLength);
  new Float32Array(buffer).set(unit.data);
  const rowOf = new Map(ids.map((id, row) => [id, row]));
  const rows = sample.map((id) => rowOf.get(id)!);
  const slices = Array.from({ length: THREADS }, (_, t) => rows.filter((_, i) => i % THREADS === t));
  const results = await Promise.all(slices.map((slice) => runThread({ ids, dimension, buffer, rows: slice, k, threshold })));
  const exact = new Map<string, Neighbor[]>();
  slices.forEach((slice, t) => slice.forEach((row, i) => exact.set(ids[row], results[t][i])));
  return exact;
}

function runThread(job: object): Promise<Neighbor[][]> {
  // The thread loads TypeScript through ts-node like the bench itself.
  const script = `require('ts-node').register({ transpileOnly: true }); require(${JSON.stringify(path.join(__dirname, 'exact-neighbors-thread.ts'))});`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { eval: true, workerData: job });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** Compares the stored lists of `table` for the students of `exact` with their exact lists. */
export async function measureGraphQuality(db: Client, table: string, exact: Map<string, Neighbor[]>): Promise<GraphQuality> {
  const stored = await storedLists(db, table, [...exact.keys()]);
  const missedHistogram = Object.fromEntries(MISSED_BUCKETS.map((b) => [b, 0])) as MissedHistogram;
  let hits = 0;
  let expected = 0;
  let exactLists = 0;
  for (const [studentId, truth] of exact) {
    const comparison = compareWithExact(studentId, stored.get(studentId) ?? [], truth, TOLERANCE);
    hits += comparison.hits;
    expected += truth.length;
    if (comparison.problems.length === 0) exactLists++;
    const missed = truth.length - comparison.hits;
    missedHistogram[missed >= 5 ? '5+' : (String(missed) as keyof MissedHistogram)]++;
  }
  return { checked: exact.size, recall: expected === 0 ? 1 : hits / expected, exactLists: exactLists / Math.max(1, exact.size), missedHistogram };
}

async function storedLists(db: Client, table: string, studentIds: string[]): Promise<Map<string, Neighbor[]>> {
  const { rows } = await db.query(`SELECT a, b, sim FROM ${table} WHERE a = ANY($1::text[]) ORDER BY a, sim DESC, b`, [studentIds]);
  const lists = new Map<string, Neighbor[]>();
  for (const row of rows) {
    if (!lists.has(row.a)) lists.set(row.a, []);
    lists.get(row.a)!.push({ studentId: row.b, similarity: Number(row.sim) });
  }
  return lists;
}
