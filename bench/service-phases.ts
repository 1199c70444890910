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

/** 'committed': the event's own offset is committed; 'settled': so are all the repairs it caused. */
export type LatencyEnd = 'committed' | 'settled';

/**
 * The latency phase: events one at a time at a fixed rate (write the row, then send with acks =
 * all), each one's partition and offset recorded; a poller reads the committed offsets every
 * few milliseconds, and an event's commit time is the first poll that shows an offset past it.
 */
export async function fixedRateLatency(db: Client, kafka: BenchKafka, events: StudentEvent[], rate: number, until: LatencyEnd = 'committed'): Promise<LatencyResult> {
  const watch = new CommitWatch(kafka, until);
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
    method:
      until === 'committed'
        ? `send time (just before producer.send, acks=all, after the row write) to the first poll of the group's committed offsets past the event's offset; polled every ${LATENCY_POLL_MS} ms plus the admin round trip`
        : `send time to settled: the first poll where the group's committed offsets of the repair topic reach the repair topic's ends as read right after the event's own offset was seen committed (its repairs are produced before that commit, so this never ends early; it may count a later event's repairs); polled every ${LATENCY_POLL_MS} ms plus three admin round trips`,
  };
}

/** Polls the committed offsets until the producer is done and every sent event is committed. */
class CommitWatch {
  producing = true;
  aborted = false;
  readonly latencies: number[] = [];
  private readonly pending = new Map<number, Pending[]>();
  /** Events committed, waiting for the repair topic to be consumed up to the ends read at their commit. */
  private readonly awaitingRepairs: { sentAt: number; repairEnds: Map<number, bigint> }[] = [];
  private failed = false;

  constructor(
    private readonly kafka: BenchKafka,
    private readonly until: LatencyEnd,
  ) {}

  expect(partition: number, offset: bigint, sentAt: number): void {
    if (!this.pending.has(partition)) this.pending.set(partition, []);
    this.pending.get(partition)!.push({ offset, sentAt });
  }

  /** Resolves with the mean poll interval in ms; a failed poll ends the watch (and rejects) only once the producer stopped. */
  async run(): Promise<number> {
    const started = performance.now();
    let polls = 0;
    while (!this.aborted && (this.producing || this.awaitingRepairs.length > 0 || [...this.pending.values()].some((list) => list.length > 0))) {
      const read = await this.readOffsets().catch((error) => {
        this.failed = true;
        return error as Error;
      });
      if (read instanceof Error) {
        if (!this.producing) throw read;
        await sleep(LATENCY_POLL_MS);
        continue;
      }
      const now = performance.now();
      polls++;
      for (const [partition, list] of this.pending) {
        const next = read.committed.get(partition) ?? -1n;
        while (list.length > 0 && list[0].offset < next) {
          const { sentAt } = list.shift()!;
          if (read.repairs) this.awaitingRepairs.push({ sentAt, repairEnds: read.repairs.ends });
          else this.latencies.push(now - sentAt);
        }
      }
      if (read.repairs) {
        const consumed = read.repairs.committed;
        for (let i = this.awaitingRepairs.length - 1; i >= 0; i--) {
          const { sentAt, repairEnds } = this.awaitingRepairs[i];
          if ([...repairEnds].every(([partition, end]) => end <= 0n || (consumed.get(partition) ?? -1n) >= end)) {
            this.latencies.push(now - sentAt);
            this.awaitingRepairs.splice(i, 1);
          }
        }
      }
      await sleep(LATENCY_POLL_MS);
    }
    if (this.failed) throw new Error('the committed offsets could not be read during the latency phase: its figures are void');
    return (performance.now() - started) / Math.max(1, polls);
  }

  /** The input's committed offsets, then (settled) the repair topic's ends and committed offsets, in that order. */
  private async readOffsets(): Promise<{ committed: Map<number, bigint>; repairs: { ends: Map<number, bigint>; committed: Map<number, bigint> } | null }> {
    const committed = await this.kafka.committedOffsets();
    if (this.until === 'committed') return { committed, repairs: null };
    const ends = await this.kafka.endOffsets(this.kafka.repairTopic);
    return { committed, repairs: { ends, committed: await this.kafka.committedOffsets(this.kafka.repairTopic) } };
  }
}
