import { Client } from 'pg';
import { applyUpstreamChanges, inTransaction } from './bench-database';
import { describePlan } from './query-ceiling';
import { LatencySummary, summarize } from '../workload/stats';
import { StudentEvent } from './workload';

export type BaselineKind = 'a' | 'b';

export const BASELINE_GRAPH = 'baseline_similarity';
export const SEED_IVFFLAT_LISTS = 32;

/** The seed's search exactly as written: the query vector comes from a join, so no index can serve the ORDER BY. */
const SEED_JOIN_SQL = `WITH src AS (SELECT vec FROM student_embeddings WHERE student_id=$1) SELECT student_id, 1-(student_embeddings.vec <=> src.vec) AS sim FROM student_embeddings, src WHERE student_id <> $1 ORDER BY student_embeddings.vec <=> src.vec LIMIT 15`;
/** The same search with the query vector as a parameter, which the IVFFlat index can serve. */
const PARAMETER_SQL = 'SELECT student_id, 1 - (vec <=> $2) AS sim FROM student_embeddings WHERE student_id <> $1 ORDER BY vec <=> $2 LIMIT 15';

export const BASELINE_DESCRIPTIONS: Record<BaselineKind, string> = {
  a: `seed SQL as written (join), IVFFlat lists=${SEED_IVFFLAT_LISTS}, probes 1, forward only`,
  b: `seed search with the vector as a parameter, IVFFlat lists=${SEED_IVFFLAT_LISTS}, probes 1, forward only`,
};

export interface BaselineResult {
  kind: BaselineKind;
  description: string;
  events: number;
  /** Time in the event handler only (the upstream row writes are not counted). */
  handlerSeconds: number;
  eventsPerSecond: number;
  latencyMs: LatencySummary;
  planTop: string;
}

/**
 * The seed's handler, one event at a time: whatever the event says, recompute the student's own
 * list from its stored vector (none when it left), delete + insert, in one transaction. Nothing
 * else is repaired: that is the seed's algorithm.
 */
export async function runBaseline(db: Client, kind: BaselineKind, events: StudentEvent[], threshold: number): Promise<BaselineResult> {
  const planTop = await explainSearch(db, kind, events[0].message.student_id);
  const latencies: number[] = [];
  for (const event of events) {
    await applyUpstreamChanges(db, [event]);
    const started = performance.now();
    await recomputeOwnList(db, kind, event.message.student_id, event.message.event_id, threshold);
    latencies.push(performance.now() - started);
  }
  const handlerSeconds = latencies.reduce((sum, ms) => sum + ms, 0) / 1000;
  return { kind, description: BASELINE_DESCRIPTIONS[kind], events: events.length, handlerSeconds, eventsPerSecond: events.length / handlerSeconds, latencyMs: summarize(latencies), planTop };
}

async function recomputeOwnList(db: Client, kind: BaselineKind, studentId: string, eventId: string, threshold: number): Promise<void> {
  await inTransaction(db, async () => {
    await db.query(`DELETE FROM ${BASELINE_GRAPH} WHERE a = $1`, [studentId]);
    const neighbors = (await search(db, kind, studentId)).filter((n) => n.sim >= threshold);
    if (neighbors.length > 0) {
      await db.query(`INSERT INTO ${BASELINE_GRAPH} (a, b, sim, last_event) SELECT $1, b, sim, $4 FROM unnest($2::text[], $3::real[]) AS n(b, sim)`, [
        studentId,
        neighbors.map((n) => n.student_id),
        neighbors.map((n) => n.sim),
        eventId,
      ]);
    }
  });
}

async function search(db: Client, kind: BaselineKind, studentId: string): Promise<{ student_id: string; sim: number }[]> {
  if (kind === 'a') return (await db.query(SEED_JOIN_SQL, [studentId])).rows;
  const { rows: [source] } = await db.query('SELECT vec::text AS vec FROM student_embeddings WHERE student_id = $1', [studentId]);
  if (!source) return [];
  return (await db.query(PARAMETER_SQL, [studentId, source.vec])).rows;
}

async function explainSearch(db: Client, kind: BaselineKind, studentId: string): Promise<string> {
  const { rows: [source] } = await db.query('SELECT vec::text AS vec FROM student_embeddings ORDER BY student_id = $1 DESC LIMIT 1', [studentId]);
  const { rows } = kind === 'a'
    ? await db.query(`EXPLAIN (FORMAT JSON) ${SEED_JOIN_SQL}`, [studentId])
    : await db.query(`EXPLAIN (FORMAT JSON) ${PARAMETER_SQL}`, [studentId, source.vec]);
  return describePlan(rows[0]['QUERY PLAN'][0].Plan);
}
