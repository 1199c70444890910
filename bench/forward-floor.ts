import { Client } from 'pg';
import { inTransaction } from './bench-database';
import { CPU_GROUPS, CpuByProcess, cpuMsBetween, readCpu } from './cpu-by-process';
import { ThroughputResult } from './service-phases';
import { FloorCeiling } from './w1-results';
import { applyUpstreamChanges, StudentEvent } from '../workload/event-stream';

export const FLOOR_GRAPH = 'floor_similarity';
/** pgvector's default, the shortest walk it ships with. */
export const FLOOR_EF_SEARCH = 40;

export interface ForwardFloorResult {
  events: number;
  batch: number;
  efSearch: number;
  /** Wall time of the upstream writes and the floor's own work together (one after the other, no Kafka). */
  seconds: number;
  eventsPerSecond: number;
  /** CPU milliseconds during the phase, by process: the floor's session counts as the worker's sessions. */
  cpuMs: CpuByProcess | null;
}

/**
 * The floor: the cheapest worker the HNSW index allows. Each batch's changed students get their
 * own top-K at pgvector's default `hnsw.ef_search` (FLOOR_EF_SEARCH) and their lists replaced,
 * in one transaction; nothing else is repaired (the seed's algorithm, batched as the service
 * batches). The upstream's row writes run
 * beside it on their own session, as they do in the service phases. Its CPU per event, with the
 * upstream's and Kafka's, bounds what any worker that searches once per changed student can
 * sustain on this machine.
 */
export async function runForwardFloor(worker: Client, upstream: Client, events: StudentEvent[], k: number, threshold: number, batch: number): Promise<ForwardFloorResult> {
  await worker.query(`SET hnsw.ef_search = ${FLOOR_EF_SEARCH}`);
  const { rows: [{ pid: upstreamBackendPid }] } = await upstream.query('SELECT pg_backend_pid() AS pid');
  const roles = { workerPids: [], upstreamBackendPid };
  const cpuAtStart = readCpu(roles);
  const started = performance.now();
  for (let start = 0; start < events.length; start += batch) {
    const chunk = events.slice(start, start + batch);
    await applyUpstreamChanges(upstream, chunk);
    await replaceOwnLists(worker, chunk, k, threshold);
  }
  const seconds = (performance.now() - started) / 1000;
  return { events: events.length, batch, efSearch: FLOOR_EF_SEARCH, seconds, eventsPerSecond: events.length / seconds, cpuMs: cpuMsBetween(cpuAtStart, readCpu(roles)) };
}

async function replaceOwnLists(db: Client, chunk: StudentEvent[], k: number, threshold: number): Promise<void> {
  const lastEvent = new Map(chunk.map((e) => [e.message.student_id, e.message.event_id]));
  const ids = [...lastEvent.keys()];
  await inTransaction(db, async () => {
    // The query vector as a scalar subquery, so that each search walks the index.
    const { rows } = await db.query(
      `SELECT q.id AS a, n.b, n.sim FROM unnest($1::text[]) AS q(id) CROSS JOIN LATERAL (
         SELECT e.student_id AS b, 1 - (e.vec <=> (SELECT vec FROM student_embeddings WHERE student_id = q.id)) AS sim
           FROM student_embeddings e
          WHERE e.student_id <> q.id
          ORDER BY e.vec <=> (SELECT vec FROM student_embeddings WHERE student_id = q.id)
          LIMIT $2) n
        WHERE n.sim >= $3`,
      [ids, k, threshold],
    );
    await db.query(`DELETE FROM ${FLOOR_GRAPH} WHERE a = ANY($1::text[])`, [ids]);
    await db.query(`INSERT INTO ${FLOOR_GRAPH} (a, b, sim, last_event) SELECT * FROM unnest($1::text[], $2::text[], $3::real[], $4::uuid[])`, [
      rows.map((r) => r.a),
      rows.map((r) => r.b),
      rows.map((r) => r.sim),
      rows.map((r) => lastEvent.get(r.a)),
    ]);
  });
}

/**
 * What the floor needs per event (every group but the rest of the machine), plus the Kafka
 * broker's share from the service's sustained phase, and the events/s that leaves on `cores`.
 */
export function floorCeiling(floor: ForwardFloorResult, sustained: ThroughputResult, cores: number): FloorCeiling | null {
  if (!floor.cpuMs) return null;
  const ownMsPerEvent = CPU_GROUPS.filter((g) => g !== 'rest').reduce((sum, g) => sum + floor.cpuMs![g], 0) / floor.events;
  const kafkaMsPerEvent = sustained.cpuMs ? sustained.cpuMs.kafka / sustained.events : 0;
  const msPerEvent = ownMsPerEvent + kafkaMsPerEvent;
  return { ownMsPerEvent, kafkaMsPerEvent, msPerEvent, eventsPerSecond: (1000 * cores) / msPerEvent };
}
