import { Client } from 'pg';
import type * as AppConfigModule from '../src/config/app-config';
import type { AppConfig } from '../src/config/app-config';
import { BENCH_DB_URL, vacuumEmbeddingsSeconds } from './bench-database';
import { BenchKafka, KAFKA_BROKERS } from './bench-kafka';
import { firstEvents, fixedRateLatency, sustainedThroughput, ThroughputResult } from './service-phases';
import { SettleResult } from './w1-results';

/** The shares of a run's sustained rate its settle-latency phases publish at. */
const SETTLE_SHARES = [0.5, 0.9];
import { builtModule, freePort, metricValues, ServiceBuild, WorkerProcess } from './worker-process';
import { ServiceRun } from './w1-results';
import { StudentEvent } from '../workload/event-stream';

const PROFILE_METRICS = [
  'similarity_batch_duration_seconds_sum',
  'similarity_batch_duration_seconds_count',
  'similarity_batch_size_events_sum',
  'similarity_batch_size_events_count',
  'similarity_lists_repaired_total',
  'similarity_pool_refills_total',
  'similarity_events_applied_total',
  'similarity_batch_retries_total',
  'similarity_event_to_commit_seconds_sum',
  'similarity_event_to_commit_seconds_count',
  'similarity_graph_lock_wait_seconds_sum',
  'similarity_graph_turn_wait_seconds_sum',
  'similarity_batch_duration_max_seconds',
  'similarity_graph_transaction_max_seconds',
];

export interface StreamPlan {
  /** Worker processes in the consumer group. */
  workers: number;
  /** Students whose first event builds the initial graph before the stream (empty: the graph is already there). */
  firstComputations: string[];
  /** Called once the initial graph is built by first events (to keep it for a rerun or another runner). */
  afterFirstComputations: () => Promise<void>;
}

export interface ServiceStream {
  sustained: StudentEvent[];
  latency: StudentEvent[];
  latencyRate: number;
}

/** The service as deployed: compiled, with its environment (its defaults, then the caller's, then the bench's). */
export interface PreparedService {
  label: string;
  config: AppConfig;
  env: NodeJS.ProcessEnv;
  settings: ServiceRun['settings'];
  build: ServiceBuild;
}

export async function prepareService(build: ServiceBuild, dimension: number): Promise<PreparedService> {
  const env = { ...process.env, DB_URL: BENCH_DB_URL, KAFKA_BROKERS, HTTP_PORT: String(await freePort()), LOG_LEVEL: 'warn', EMBEDDING_DIM: String(dimension) };
  // The settings as the built service reads them: its defaults may differ from this tree's.
  const config = builtModule<typeof AppConfigModule>(build, 'src/config/app-config').loadConfig(env);
  return { label: `service (${config.graph.candidateSearch} candidate search)`, config, env, settings: effectiveSettings(config), build };
}

/** Which service and settings run, for the output. */
export function describeService(service: PreparedService): string {
  const { source } = service.build;
  const built = source.from === 'commit' ? `commit ${source.commit}` : `the working tree (HEAD ${source.commit}${source.dirty ? ', with uncommitted changes in src/ or migrations/' : ''})`;
  return `  built from ${built}\n  worker settings: ${Object.entries(service.settings).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

/**
 * The worker in its own process on a fresh topic: the sustained stream, then the fixed-rate
 * phase; then its peak memory and metrics.
 * Leaves the final graph in student_similarity.
 */
export async function runStream(db: Client, service: PreparedService, stream: ServiceStream, plan: StreamPlan): Promise<Omit<ServiceRun, 'quality'>> {
  // A topic and group of its own per attempt, so nothing of an aborted attempt is read again.
  const runId = `bench_w1_${Date.now()}`;
  const env = { ...service.env, STUDENT_EMBEDDING_TOPIC: runId, KAFKA_GROUP_ID: runId };
  const kafka = new BenchKafka(runId, runId);
  await kafka.connect();
  const workers: WorkerProcess[] = [];
  try {
    for (let i = 0; i < plan.workers; i++) {
      const port = i === 0 ? service.config.http.port : await freePort();
      workers.push(await WorkerProcess.start(service.build.buildDir, { ...env, HTTP_PORT: String(port) }, port));
    }
    await kafka.waitForStableGroup(plan.workers);
    let firstComputations: ThroughputResult | null = null;
    if (plan.firstComputations.length > 0) {
      firstComputations = await sustainedThroughput(db, kafka, firstEvents(plan.firstComputations), workers.map((w) => w.pid));
      console.log(`  first computations: ${firstComputations.events} students in ${firstComputations.seconds.toFixed(1)} s = ${firstComputations.eventsPerSecond.toFixed(1)} events/s${busy(firstComputations)}`);
      await plan.afterFirstComputations();
    }
    const before = await workerMetrics(workers);
    const throughput = await sustainedThroughput(db, kafka, stream.sustained, workers.map((w) => w.pid));
    console.log(`  sustained: ${throughput.events} events in ${throughput.seconds.toFixed(1)} s = ${throughput.eventsPerSecond.toFixed(1)} events/s, WAL ${(throughput.walBytes / throughput.events / 1024).toFixed(0)} KB per event${busy(throughput)}`);
    const sustainedMetrics = metricsBetween(before, await workerMetrics(workers));
    const peakRssAfterSustainedBytes = Math.max(...workers.map((w) => w.peakRssBytes()));
    const vacuumAfterSustainedSeconds = await vacuumEmbeddingsSeconds(db);
    console.log(`  VACUUM of student_embeddings left by the sustained phase: ${vacuumAfterSustainedSeconds.toFixed(1)} s`);
    // The latency events in thirds: event to commit at the fixed rate, then event to settled at
    // half and at 90% of the rate this run sustained, each from a settled graph.
    const third = Math.ceil(stream.latency.length / 3);
    const latency = await fixedRateLatency(db, kafka, stream.latency.slice(0, third), stream.latencyRate);
    const l = latency.latencyMs;
    console.log(`  latency at ${latency.targetRate}/s (achieved ${latency.achievedRate.toFixed(0)}/s): p50 ${l.p50.toFixed(1)} ms, p95 ${l.p95.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`);
    const totalMetrics = await workerMetrics(workers);
    const settle: SettleResult[] = [];
    for (const [i, share] of SETTLE_SHARES.entries()) {
      await kafka.waitUntilConsumed();
      const events = stream.latency.slice(third * (i + 1), third * (i + 2));
      const result = await fixedRateLatency(db, kafka, events, share * throughput.eventsPerSecond, 'settled');
      settle.push({ shareOfCapacity: share, ...result });
      const m = result.latencyMs;
      console.log(`  settled at ${(100 * share).toFixed(0)}% of capacity, ${result.targetRate.toFixed(1)}/s (achieved ${result.achievedRate.toFixed(1)}/s): p50 ${m.p50.toFixed(1)} ms, p95 ${m.p95.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms`);
    }
    await kafka.waitUntilConsumed();
    const peakRssBytes = Math.max(...workers.map((w) => w.peakRssBytes()));
    if (kafka.connectionErrors > 0) throw new Error(`Kafka was unreachable (${kafka.connectionErrors} connection errors): the run's figures are void`);
    return {
      label: plan.workers > 1 ? `${service.label}, ${plan.workers} workers` : service.label,
      workers: plan.workers,
      firstComputations,
      source: service.build.source,
      settings: service.settings,
      throughput,
      vacuumAfterSustainedSeconds,
      latency,
      settle,
      peakRssBytes,
      peakRssAfterSustainedBytes,
      metrics: { sustained: sustainedMetrics, total: totalMetrics },
    };
  } finally {
    for (const worker of workers) await worker.stop();
    await kafka.close();
  }
}

function busy(phase: ThroughputResult): string {
  return phase.machineCpuBusy === null ? '' : `, machine CPU ${(phase.machineCpuBusy * 100).toFixed(0)}% busy`;
}

/** The profile metrics of all workers: counters and sums added, the longest batch the largest. */
async function workerMetrics(workers: WorkerProcess[]): Promise<Record<string, number>> {
  const each = await Promise.all(workers.map(async (w) => metricValues(await w.metricsText(), PROFILE_METRICS)));
  return Object.fromEntries(PROFILE_METRICS.map((name) => [name, (name.endsWith('_max_seconds') ? Math.max : sum)(...each.map((m) => m[name]))]));
}

/** Counters over a phase; the longest batch stays the longest seen. */
function metricsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([name, value]) => [name, name.endsWith('_max_seconds') ? value : value - before[name]]));
}

const sum = (...values: number[]) => values.reduce((total, x) => total + x, 0);

function effectiveSettings(config: AppConfig): ServiceRun['settings'] {
  return {
    CANDIDATE_SEARCH: config.graph.candidateSearch,
    MAX_NEIGHBORS: config.graph.maxNeighbors,
    NEIGHBOR_RESERVE: config.graph.reserve,
    SIMILARITY_THRESHOLD: config.graph.threshold,
    REVERSE_CANDIDATES: config.graph.reverseCandidates,
    REVERSE_SEEDS: config.graph.reverseSeeds,
    DENSE_REVERSE_SEEDS: config.graph.denseReverseSeeds,
    VECTOR_INDEX: config.vectors.index,
    HNSW_EF_SEARCH: config.vectors.hnswEfSearch,
    BATCH_MAX_EVENTS: config.kafka.batchMaxEvents,
    DB_POOL_SIZE: config.database.poolSize,
  };
}
