import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { BenchKafka } from './bench-kafka';
import { busyShareBetween, CpuByProcess, cpuMsBetween, readCpu } from './cpu-by-process';
import { LatencySummary, sleep, summarize } from '../workload/stats';
import { applyUpstreamChanges, StudentEvent } from '../workload/event-stream';

const PUBLISH_CHUNK = 500;
const LATENCY_POLL_MS = 2;

export interface ThroughputResult {
  events: number;
  /** From the first publish to the last commit. */
  seconds: number;
  eventsPerSecond: number;
  /** How long writing rows and publishing took (the producer's side). */
  publishSeconds: number;
  /** WAL written during the phase (the upstream row writes and their HNSW inserts included). */
  walBytes: number;
  /** Share of the machine's CPU time (all cores, every process) that was busy during the phase; null without /proc/stat. */
  machineCpuBusy: number | null;
  /** CPU milliseconds spent during the phase, by process; null without /proc. */
  cpuMs: CpuByProcess | null;
}

/**
 * The sustained phase: as fast as possible, in chunks, the upstream rows are written and then
 * the chunk's events published (an event never precedes its row); done when the group's
 * committed offsets reach the end of every partition of the input and of the repair topic.
 */
export async function sustainedThroughput(db: Client, kafka: BenchKafka, events: Pick<StudentEvent, 'message' | 'change'>[], workerPids: number[]): Promise<ThroughputResult> {
  const { rows: [{ lsn: walAtStart }] } = await db.query('SELECT pg_current_wal_lsn()::text AS lsn');
  const committedAtStart = await committedTotal(kafka).catch(() => 0);
  const { rows: [{ pid: upstreamBackendPid }] } = await db.query('SELECT pg_backend_pid() AS pid');
  const roles = { workerPids, upstreamBackendPid };
  const cpuAtStart = readCpu(roles);
  const started = performance.now();
  let publishSeconds = 0;
  // Progress is best effort: a poll that fails (topic gone after an aborted run) is not an error.
  const progress = setInterval(() => void reportProgress(kafka, committedAtStart, events.length, started).catch(() => undefined), 5000);
  try {
    for (let start = 0; start < events.length; start += PUBLISH_CHUNK) {
      const chunk = events.slice(start, start + PUBLISH_CHUNK);
      await applyUpstreamChanges(db, chunk);
      await kafka.publish(chunk.map((e) => e.message));
    }
    publishSeconds = (performance.now() - started) / 1000;
    await kafka.waitUntilConsumed();
  } finally {
    clearInterval(progress);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuAtEnd = readCpu(roles);
  const machineCpuBusy = busyShareBetween(cpuAtStart?.machine ?? null, cpuAtEnd?.machine ?? null);
  const cpuMs = cpuMsBetween(cpuAtStart, cpuAtEnd);
  const walBytes = await walBytesSince(db, walAtStart);
  return { events: events.length, seconds, eventsPerSecond: events.length / seconds, publishSeconds, walBytes, machineCpuBusy, cpuMs };
}

/** Every student's first event (its row is already written): the graph built by the worker, one first computation each. */
export function firstEvents(ids: string[]): Pick<StudentEvent, 'message' | 'change'>[] {
  return ids.map((id) => ({ message: { student_id: id, event_id: randomUUID(), version: 1, op: 'upsert' }, change: { kind: 'none' } }));
}

async function walBytesSince(db: Client, lsn: string): Promise<number> {
  const { rows } = await db.query('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 AS bytes', [lsn]);
  return Number(rows[0].bytes);
}

async function committedTotal(kafka: BenchKafka): Promise<number> {
  return [...(await kafka.committedOffsets()).values()].reduce((sum, o) => sum + (o > 0n ? Number(o) : 0), 0);
}

/** Progress of this phase alone (the topic may hold an earlier phase's events). */
async function reportProgress(kafka: BenchKafka, committedAtStart: number, total: number, started: number): Promise<void> {
  const committed = (await committedTotal(kafka)) - committedAtStart;
  const seconds = (performance.now() - started) / 1000;
  console.log(`  ... ${committed}/${total} committed after ${seconds.toFixed(0)} s (${(committed / seconds).toFixed(0)} events/s)`);
}

export interface LatencyResult {
  events: number;
  targetRate: number;
  /** The rate the producer actually achieved (row write + send, one event at a time). */
  achievedRate: number;
  latencyMs: LatencySummary;
  /** Mean interval between two polls of the committed offsets: the resolution of the commit times. */
  pollIntervalMs: number;
  method: string;
}

interface Pending {
  offset: bigint;
  sentAt: number;
}

/**
 * The latency phase: events one at a time at a fixed rate (write the row, then send with acks =
 * all), each one's partition and offset recorded; a poller reads the committed offsets every
 * few milliseconds, and an event's commit time is the first poll that shows an offset past it.
 */
export async function fixedRateLatency(db: Client, kafka: BenchKafka, events: StudentEvent[], rate: number): Promise<LatencyResult> {
  const watch = new CommitWatch(kafka);
  const polling = watch.run();
  const started = performance.now();
  try {
    for (const [i, event] of events.entries()) {
      const due = started + (i * 1000) / rate;
      if (due > performance.now()) await sleep(due - performance.now());
      await applyUpstreamChanges(db, [event]);
      const sentAt = performance.now();
      const [landed] = await kafka.publish([event.message]);
      watch.expect(landed.partition, BigInt(landed.baseOffset!), sentAt);
    }
  } catch (error) {
    watch.aborted = true;
    await polling.catch(() => undefined);
    throw error;
  }
  watch.producing = false;
  const achievedRate = events.length / ((performance.now() - started) / 1000);
  const pollIntervalMs = await polling;
  return {
    events: events.length,
    targetRate: rate,
    achievedRate,
    latencyMs: summarize(watch.latencies),
    pollIntervalMs,
    method: `send time (just before producer.send, acks=all, after the row write) to the first poll of the group's committed offsets past the event's offset; polled every ${LATENCY_POLL_MS} ms plus the admin round trip`,
  };
}

/** Polls the committed offsets until the producer is done and every sent event is committed. */
class CommitWatch {
  producing = true;
  aborted = false;
  readonly latencies: number[] = [];
  private readonly pending = new Map<number, Pending[]>();
  private failed = false;

  constructor(private readonly kafka: BenchKafka) {}

  expect(partition: number, offset: bigint, sentAt: number): void {
    if (!this.pending.has(partition)) this.pending.set(partition, []);
    this.pending.get(partition)!.push({ offset, sentAt });
  }

  /** Resolves with the mean poll interval in ms; a failed poll ends the watch (and rejects) only once the producer stopped. */
  async run(): Promise<number> {
    const started = performance.now();
    let polls = 0;
    while (!this.aborted && (this.producing || [...this.pending.values()].some((list) => list.length > 0))) {
      const committed = await this.kafka.committedOffsets().catch((error) => {
        this.failed = true;
        return error as Error;
      });
      if (committed instanceof Error) {
        if (!this.producing) throw committed;
        await sleep(LATENCY_POLL_MS);
        continue;
      }
      const now = performance.now();
      polls++;
      for (const [partition, list] of this.pending) {
        const next = committed.get(partition) ?? -1n;
        while (list.length > 0 && list[0].offset < next) this.latencies.push(now - list.shift()!.sentAt);
      }
      await sleep(LATENCY_POLL_MS);
    }
    if (this.failed) throw new Error('the committed offsets could not be read during the latency phase: its figures are void');
    return (performance.now() - started) / Math.max(1, polls);
  }
}
