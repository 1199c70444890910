import { Client } from 'pg';
import { inTransaction } from './bench-database';
import { LatencySummary, summarize } from '../workload/stats';
import { applyUpstreamChanges, StudentEvent } from '../workload/event-stream';

export const BASELINE_GRAPH = 'baseline_similarity';
export const SEED_IVFFLAT_INDEX = 'bench_seed_ivfflat_idx';
export const SEED_IVFFLAT_LISTS = 32;

/**
 * The seed's search with the query vector as a parameter, so that its IVFFlat index serves it
 * (the seed's own SQL took the vector from a join, which no index can serve).
 */
const SEED_SEARCH_SQL = 'SELECT student_id, 1 - (vec <=> $2) AS sim FROM student_embeddings WHERE student_id <> $1 ORDER BY vec <=> $2 LIMIT 15';

export const SEED_BASELINE_DESCRIPTION = `seed search with the vector as a parameter, IVFFlat lists=${SEED_IVFFLAT_LISTS}, probes 1, forward only`;

export interface BaselineResult {
  description: string;
  events: number;
  /** Time in the event handler only (the upstream row writes are not counted). */
  handlerSeconds: number;
  eventsPerSecond: number;
  latencyMs: LatencySummary;
  planTop: string;
}

/**
 * Baseline (b), the seed's handler, one event at a time: whatever the event says, recompute the
 * student's own list from its stored vector (none when it left), delete + insert, in one
 * transaction. Nothing else is repaired: that is the seed's algorithm.
 */
export async function runSeedBaseline(db: Client, events: StudentEvent[], threshold: number): Promise<BaselineResult> {
  const planTop = await explainSearch(db, events[0].message.student_id);
  const latencies: number[] = [];
  for (const event of events) {
    await applyUpstreamChanges(db, [event]);
    const started = performance.now();
    await recomputeOwnList(db, event.message.student_id, event.message.event_id, threshold);
    latencies.push(performance.now() - started);
  }
  const handlerSeconds = latencies.reduce((sum, ms) => sum + ms, 0) / 1000;
  return { description: SEED_BASELINE_DESCRIPTION, events: events.length, handlerSeconds, eventsPerSecond: events.length / handlerSeconds, latencyMs: summarize(latencies), planTop };
}

async function recomputeOwnList(db: Client, studentId: string, eventId: string, threshold: number): Promise<void> {
  await inTransaction(db, async () => {
    await db.query(`DELETE FROM ${BASELINE_GRAPH} WHERE a = $1`, [studentId]);
    const neighbors = (await search(db, studentId)).filter((n) => n.sim >= threshold);
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

async function search(db: Client, studentId: string): Promise<{ student_id: string; sim: number }[]> {
  const { rows: [source] } = await db.query('SELECT vec::text AS vec FROM student_embeddings WHERE student_id = $1', [studentId]);
  if (!source) return [];
  return (await db.query(SEED_SEARCH_SQL, [studentId, source.vec])).rows;
}

async function explainSearch(db: Client, studentId: string): Promise<string> {
  const { rows: [source] } = await db.query('SELECT vec::text AS vec FROM student_embeddings ORDER BY student_id = $1 DESC LIMIT 1', [studentId]);
  const { rows } = await db.query(`EXPLAIN (FORMAT JSON) ${SEED_SEARCH_SQL}`, [studentId, source.vec]);
  return describePlan(rows[0]['QUERY PLAN'][0].Plan);
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** The plan as a chain of node types, e.g. "Limit > Index Scan (idx)"; the inputs of a join are joined by " x ". */
function describePlan(plan: PlanNode): string {
  const label = plan['Index Name'] ? `${plan['Node Type']} (${plan['Index Name']})` : plan['Node Type'];
  return plan.Plans?.length ? `${label} > ${plan.Plans.map(describePlan).join(' x ')}` : label;
}
