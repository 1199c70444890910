import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'pg';
import { BenchKafka } from './bench-kafka';
import { GraphQuality, measureGraphQuality } from './graph-quality';
import { sustainedThroughput, ThroughputResult } from './service-phases';
import { PreparedService } from './service-run';
import { freePort, metricValues, WorkerProcess } from './worker-process';
import { partitionOfKey } from '../src/kafka/partition-of-key';
import { Neighbor } from '../src/similarity/graph/neighbor';
import { StudentEvent } from '../workload/event-stream';

/*
 * Scale-out under deployment-like CPU limits: 1, 2, 3 worker processes, each in its own cgroup
 * v1 CPU quota, replay the same events from the same initial graph. Capped, the workers are the
 * bottleneck (PostgreSQL and Kafka are not: the machine's busy share shows it), so the speed-up
 * says whether more replicas add throughput or only wait for each other.
 */

const CGROUP_CPU_ROOT = '/sys/fs/cgroup/cpu';
const CFS_PERIOD_US = 100_000;

export interface CappedPlan {
  workerCounts: number[];
  /** Cores each worker may use (cpu.cfs_quota_us / cpu.cfs_period_us). */
  quotaCores: number;
  partitions: number;
  /** Partitions of the skew run (0: no skew run). */
  skewPartitions: number;
}

interface Histogram {
  name: string;
  /** Cumulative counts by upper bound, ascending; the last bound is +Inf. */
  buckets: [number, number][];
}

export interface CappedRun {
  workers: number;
  partitions: number;
  quotaCores: number | null;
  throughput: ThroughputResult;
  /** Events/s over the one-worker run's. */
  speedUp: number;
  /** CPU ms per move (event) by process. */
  cpuMsPerMove: { workers: number; postgres: number; kafka: number; rest: number } | null;
  quality: GraphQuality;
  /** Milliseconds, from the workers' histogram named by `metric` (linear within a bucket, as Prometheus' histogram_quantile). */
  settle: { metric: string; p50: number; p95: number; p99: number };
  /** Seconds per move that no other writer can overlap, from the wait metrics named; the ceiling is 1 / that. */
  serial: { metrics: string; secondsPerMove: number; ceilingMovesPerSecond: number };
  /** RepairMessage entries read back per partition of the repair topic (all zero: this build produced none). */
  repairEntries: number[];
  /** Milliseconds per move of batch time, summed over the workers: event batches, repair batches, and each step of the repair batches (absent in builds without the step metric). */
  batchMsPerMove: { events: number; repairs: number; repairSteps: Record<string, number> };
  throttling: { periods: number; throttledPeriods: number; throttledSeconds: number }[];
}

export interface PartitionSkew {
  partitions: number;
  moves: number[];
  repairs: number[];
  maxOverMean: number;
}

export interface CappedResults {
  events: number;
  plan: CappedPlan;
  runs: CappedRun[];
  skew: PartitionSkew | null;
}

/** A cgroup v1 CPU quota that one worker process is moved into (needs root and the cpu controller at CGROUP_CPU_ROOT). */
class CpuQuota {
  private constructor(private readonly dir: string) {}

  static create(name: string, cores: number): CpuQuota {
    const dir = path.join(CGROUP_CPU_ROOT, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
    fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(Math.round(cores * CFS_PERIOD_US)));
    return new CpuQuota(dir);
  }

  /** Moves the process (all its threads) into the group. */
  add(pid: number): void {
    fs.writeFileSync(path.join(this.dir, 'cgroup.procs'), String(pid));
  }

  stat(): CappedRun['throttling'][number] {
    const fields = Object.fromEntries(fs.readFileSync(path.join(this.dir, 'cpu.stat'), 'utf8').trim().split('\n').map((line) => line.split(' ')));
    return { periods: Number(fields.nr_periods), throttledPeriods: Number(fields.nr_throttled), throttledSeconds: Number(fields.throttled_time) / 1e9 };
  }

  /** Back to the root group whatever is left (a worker that did not exit), then removes the group. */
  remove(): void {
    for (const pid of fs.readFileSync(path.join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) fs.writeFileSync(path.join(CGROUP_CPU_ROOT, 'cgroup.procs'), pid);
    fs.rmdirSync(this.dir);
  }
}

/**
 * The capped runs, then the skew run (uncapped, one worker: skew depends on the partitions, not
 * the workers). `reset` puts the initial embeddings and graph back before each run.
 */
export async function runCappedPhase(db: Client, service: PreparedService, events: StudentEvent[], plan: CappedPlan, reset: () => Promise<void>, exact: Map<string, Neighbor[]>): Promise<CappedResults> {
  if (!fs.existsSync(path.join(CGROUP_CPU_ROOT, 'cpu.cfs_quota_us'))) throw new Error(`no cgroup v1 cpu controller at ${CGROUP_CPU_ROOT}: the capped runs need it (and root)`);
  const runs: CappedRun[] = [];
  for (const workers of plan.workerCounts) {
    await reset();
    const run = await runGroup(db, service, events, { workers, partitions: plan.partitions, quotaCores: plan.quotaCores }, exact, runs[0]?.throughput.eventsPerSecond);
    runs.push(run);
    console.log(`  ${describeRun(run)}`);
  }
  let skew: PartitionSkew | null = null;
  if (plan.skewPartitions > 0) {
    await reset();
    const run = await runGroup(db, service, events, { workers: 1, partitions: plan.skewPartitions, quotaCores: null }, exact);
    const moves = Array.from({ length: plan.skewPartitions }, () => 0);
    for (const e of events) moves[partitionOfKey(e.message.student_id, plan.skewPartitions)]++;
    const load = moves.map((m, p) => m + run.repairEntries[p]);
    skew = { partitions: plan.skewPartitions, moves, repairs: run.repairEntries, maxOverMean: Math.max(...load) / (load.reduce((s, x) => s + x, 0) / load.length) };
    console.log(`  skew at ${skew.partitions} partitions (moves + repair entries): max/mean ${skew.maxOverMean.toFixed(2)}; moves ${moves.join(' ')}; repairs ${skew.repairs.join(' ')}`);
  }
  return { events: events.length, plan, runs, skew };
}

/**
 * One consumer group of `workers` processes (each in its own CPU quota unless null) on fresh
 * topics of `partitions`; the events replayed until the group consumed them and their repairs.
 * Leaves the graph in student_similarity.
 */
export async function runGroup(
  db: Client,
  service: PreparedService,
  events: Pick<StudentEvent, 'message' | 'change'>[],
  shape: { workers: number; partitions: number; quotaCores: number | null },
  exact: Map<string, Neighbor[]> | null,
  oneWorkerEventsPerSecond?: number,
): Promise<CappedRun> {
  const runId = `bench_capped_${shape.workers}w${shape.partitions}p_${Date.now()}`;
  const env = { ...service.env, STUDENT_EMBEDDING_TOPIC: runId, KAFKA_GROUP_ID: runId };
  const kafka = new BenchKafka(runId, runId, shape.partitions);
  await kafka.connect();
  const workers: WorkerProcess[] = [];
  const quotas: CpuQuota[] = [];
  try {
    for (let i = 0; i < shape.workers; i++) {
      const port = await freePort();
      const worker = await WorkerProcess.start(service.build.buildDir, { ...env, HTTP_PORT: String(port) }, port);
      workers.push(worker);
      if (shape.quotaCores !== null) {
        quotas.push(CpuQuota.create(`${runId}_w${i}`, shape.quotaCores));
        quotas[i].add(worker.pid);
      }
    }
    await kafka.waitForStableGroup(shape.workers);
    const before = await Promise.all(workers.map((w) => w.metricsText()));
    const throttledBefore = quotas.map((q) => q.stat());
    const throughput = await sustainedThroughput(db, kafka, events, workers.map((w) => w.pid));
    const after = await Promise.all(workers.map((w) => w.metricsText()));
    const throttling = quotas.map((q, i) => {
      const [b, a] = [throttledBefore[i], q.stat()];
      return { periods: a.periods - b.periods, throttledPeriods: a.throttledPeriods - b.throttledPeriods, throttledSeconds: a.throttledSeconds - b.throttledSeconds };
    });
    const repairEntries = await kafka.repairEntriesByPartition();
    if (kafka.connectionErrors > 0) throw new Error(`Kafka was unreachable (${kafka.connectionErrors} connection errors): the run's figures are void`);
    const quality = exact ? await measureGraphQuality(db, 'student_similarity', exact) : { checked: 0, recall: NaN, exactLists: NaN, missedHistogram: { '0': 0, '1': 0, '2': 0, '3': 0, '4': 0, '5+': 0 } };
    const moves = events.length;
    const settled = after.some((text) => text.includes('similarity_event_to_settled_seconds_bucket'));
    const settle = histogramBetween(before, after, settled ? 'similarity_event_to_settled_seconds' : 'similarity_event_to_commit_seconds');
    const ownerLock = after.some((text) => text.includes('similarity_owner_lock_wait_seconds_sum'));
    const serialNames = ownerLock ? ['similarity_owner_lock_wait_seconds_sum'] : ['similarity_graph_lock_wait_seconds_sum', 'similarity_graph_turn_wait_seconds_sum'];
    const secondsPerMove = serialNames.reduce((s, name) => s + sumBetween(before, after, name), 0) / moves;
    const cpu = throughput.cpuMs;
    return {
      workers: shape.workers,
      partitions: shape.partitions,
      quotaCores: shape.quotaCores,
      throughput,
      speedUp: throughput.eventsPerSecond / (oneWorkerEventsPerSecond ?? throughput.eventsPerSecond),
      cpuMsPerMove: cpu && { workers: cpu.worker / moves, postgres: (cpu.databaseSessions + cpu.upstreamWrites + cpu.databaseBackground) / moves, kafka: cpu.kafka / moves, rest: (cpu.bench + cpu.rest) / moves },
      quality,
      settle: { metric: settle.name, p50: 1000 * quantile(settle, 0.5), p95: 1000 * quantile(settle, 0.95), p99: 1000 * quantile(settle, 0.99) },
      serial: { metrics: serialNames.join(' + '), secondsPerMove, ceilingMovesPerSecond: 1 / secondsPerMove },
      repairEntries,
      batchMsPerMove: {
        events: (1000 * sumBetween(before, after, 'similarity_batch_duration_seconds_sum')) / moves,
        repairs: (1000 * sumBetween(before, after, 'similarity_repair_batch_duration_seconds_sum')) / moves,
        repairSteps: Object.fromEntries(Object.entries(byLabelBetween(before, after, 'similarity_repair_step_seconds_total', 'step')).map(([step, s]) => [step, (1000 * s) / moves])),
      },
      throttling,
    };
  } finally {
    for (const worker of workers) await worker.stop();
    for (const quota of quotas) {
      try {
        quota.remove();
      } catch (error) {
        console.error(`could not remove a cgroup: ${(error as Error).message}`);
      }
    }
    await kafka.close();
  }
}

/** A series summed over label sets, in every worker's exposition, after minus before. */
function sumBetween(before: string[], after: string[], name: string): number {
  const total = (texts: string[]) => texts.reduce((s, text) => s + metricValues(text, [name])[name], 0);
  return total(after) - total(before);
}

/** A counter by one label's values, summed over the workers, after minus before. */
function byLabelBetween(before: string[], after: string[], name: string, label: string): Record<string, number> {
  const sums: Record<string, number> = {};
  const add = (texts: string[], sign: number) => {
    for (const text of texts) {
      for (const line of text.split('\n')) {
        const match = new RegExp(`^${name}\\{(?:.*,)?${label}="([^"]+)"[^}]*\\}\\s+(\\S+)`).exec(line);
        if (match) sums[match[1]] = (sums[match[1]] ?? 0) + sign * Number(match[2]);
      }
    }
  };
  add(after, 1);
  add(before, -1);
  return sums;
}

/** The histogram's buckets, summed over the workers and label sets, after minus before. */
function histogramBetween(before: string[], after: string[], name: string): Histogram {
  const counts = new Map<number, number>();
  const add = (texts: string[], sign: number) => {
    for (const text of texts) {
      for (const line of text.split('\n')) {
        const match = new RegExp(`^${name}_bucket\\{(?:.*,)?le="([^"]+)"[^}]*\\}\\s+(\\S+)`).exec(line);
        if (match) {
          const le = match[1] === '+Inf' ? Infinity : Number(match[1]);
          counts.set(le, (counts.get(le) ?? 0) + sign * Number(match[2]));
        }
      }
    }
  };
  add(after, 1);
  add(before, -1);
  return { name, buckets: [...counts].sort(([x], [y]) => x - y) };
}

/** Prometheus' histogram_quantile: linear within the bucket that holds the rank; NaN without observations. */
function quantile(h: Histogram, q: number): number {
  const total = h.buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let [lower, below] = [0, 0];
  for (const [upper, count] of h.buckets) {
    if (count >= rank) return upper === Infinity ? lower : lower + ((upper - lower) * (rank - below)) / Math.max(count - below, 1e-9);
    [lower, below] = [upper, count];
  }
  return lower;
}

const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

function describeRun(r: CappedRun): string {
  const busy = r.throughput.machineCpuBusy === null ? 'n/a' : `${f(100 * r.throughput.machineCpuBusy, 0)}%`;
  return `${r.workers} worker(s): ${f(r.throughput.eventsPerSecond)} moves/s (${f(r.speedUp, 2)}x), machine ${busy} busy, recall@15 ${f(r.quality.recall, 4)}, throttled ${f(r.throttling.reduce((s, t) => s + t.throttledSeconds, 0))} s`;
}
