/**
 * Workload W1: students built from real sentence embeddings, an event stream through the worker,
 * the seed's algorithm as two baselines, the raw pgvector ceiling and the graph quality of each.
 * Usage: npm run bench [-- --students N --events N --vectors DIR ...]; see --help.
 */
import 'reflect-metadata';
import { Client } from 'pg';
import { connect, copyGraphInto, dropBenchDatabase, emptyGraph, loadInitialEmbeddings, migrateWithoutVectorIndex, recreateBenchDatabase, restoreGraph, restoreInitialEmbeddings, snapshotGraph, withBenchDb } from './bench-database';
import { exactNeighbors, GraphQuality, measureGraphQuality, spreadSample } from './graph-quality';
import { runIndexPhase } from './index-phase';
import { loadItemSource } from './item-source';
import { describeMachine } from './machine-info';
import { writeResults } from './results-files';
import { BASELINE_GRAPH, BaselineKind, runBaseline, SEED_IVFFLAT_LISTS } from './seed-baselines';
import { FLOOR_EF_SEARCH, FLOOR_GRAPH, runForwardFloor } from './forward-floor';
import { describeService, prepareService, rebuildGraph, runStream, ServiceStream } from './service-run';
import { compileService, resolveCommit, ServiceBuild } from './worker-process';
import { checkTargets } from './targets';
import { buildHnswIndex, buildIvfflatIndex, dropIndex, HNSW_INDEX, SEED_IVFFLAT_INDEX } from './vector-indexes';
import { restartablePhase } from './restartable-phase';
import { BaselineRun, ForwardFloorRun, ServiceRun, W1Results } from './w1-results';
import { parseW1Options, W1Options } from './w1-options';
import { buildWorkload, countByKind, vectorsAfter, Workload } from './workload';

const K = 15;
const THRESHOLD = 0.1;
/** The snapshot of the default run's initial graph: the common starting graph of the service and the baselines. */
const DEFAULT_GRAPH = 'bench_graph_default';
/** Events per batch of the floor: larger than the service's mean batch, which only makes the floor cheaper. */
const FLOOR_BATCH = 100;

async function main(): Promise<void> {
  const options = parseW1Options(process.argv);
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const source = loadItemSource(options.vectors, options.seed, options.topics);
  if (source.synthetic) {
    console.log(`\n!!! ${source.description}.\n!!! Figures from synthetic vectors are NOT comparable with the real-data ones.\n`);
    notes.push(`Vectors: ${source.description}.`);
  } else console.log(`data: ${source.description}`);

  step(`workload: ${options.students} students, ${options.events} + ${options.latencyEvents} events (seed ${options.seed})`);
  const workload = buildWorkload(source.items, options.students, options.events + options.latencyEvents, options.seed);
  const streamEvents = workload.events.slice(0, options.events);
  const latencyEvents = workload.events.slice(options.events);
  const baselineAEvents = Math.min(options.baselineAEvents, workload.events.length);
  if (baselineAEvents < workload.events.length) {
    notes.push(`Baseline (a) ran on the first ${baselineAEvents} of ${workload.events.length} events only (a full scan per event; at ${options.students} students one event takes tens of ms); its quality is after that prefix.`);
  }

  step('compile the service (once: every run and the migrations use this build)');
  const build = await compileService(options.serviceCommit ? await resolveCommit(options.serviceCommit) : null);
  const phase: Phase = (label, work, maxAttempts) => {
    step(label);
    return restartablePhase(label, notes, work, maxAttempts);
  };
  try {
    await phase('database similarity_bench: recreate, migrate (no vector index), load', async () => {
      await recreateBenchDatabase();
      await migrateWithoutVectorIndex(build, workload.dimension);
      await withBenchDb((db) => loadInitialEmbeddings(db, workload));
    });
    const machine = await withBenchDb(describeMachine);

    const { indexBuilds, ceiling } = await phase(options.skipCeiling ? 'index builds (ceiling skipped)' : 'index builds and the raw query ceiling', () =>
      withBenchDb((db) => runIndexPhase(db, workload.ids.length, options.skipCeiling)),
    );

    const stream = { sustained: streamEvents, latency: latencyEvents, latencyRate: options.latencyRate };
    const runService = (extraEnv: Record<string, string>, snapshot: string, initialGraph: InitialGraph = 'cli', workers = 1) =>
      serviceRun(phase, build, workload, stream, { extraEnv, snapshot, initialGraph, workers, startsFromInitialState: snapshot === DEFAULT_GRAPH && initialGraph !== 'snapshot' });
    const defaultRun = await runService({}, DEFAULT_GRAPH, 'first-events');

    const exactAfter = exactCache(workload, options);
    const serviceQuality = await phase(`graph quality: exact top-${K} by brute force for the sample`, async () => {
      const exact = await exactAfter(workload.events.length);
      const quality = await withBenchDb((db) => measureGraphQuality(db, 'student_similarity', exact));
      printQuality('service', quality);
      return quality;
    });

    const forwardFloor = await phase(`the floor: forward only at ef_search ${FLOOR_EF_SEARCH}, batches of ${FLOOR_BATCH}`, () => withBenchDb((db) => runFloorPhase(db, workload, exactAfter)));

    const baselines = {} as Record<BaselineKind, BaselineRun>;
    for (const [kind, count] of [['b', workload.events.length], ['a', baselineAEvents]] as const) {
      baselines[kind] = await phase(`baseline (${kind}): ${count} events, one at a time`, () => withBenchDb((db) => runBaselinePhase(db, kind, workload, count, exactAfter)));
    }

    let serviceOtherMode: ServiceRun | null = null;
    if (options.otherModeRun) {
      const otherMode = defaultRun.settings.CANDIDATE_SEARCH === 'index' ? 'exact' : 'index';
      const run = await runService({ CANDIDATE_SEARCH: otherMode }, 'bench_graph_other_mode');
      const quality = await phase(`graph quality of the ${otherMode}-mode run`, () => withBenchDb(async (db) => measureGraphQuality(db, 'student_similarity', await exactAfter(workload.events.length))));
      printQuality(`service (${otherMode} mode)`, quality);
      serviceOtherMode = { ...run, quality };
    }

    let serviceTwoWorkers: ServiceRun | null = null;
    if (options.twoWorkerRun) {
      const run = await runService({}, DEFAULT_GRAPH, 'snapshot', 2);
      const quality = await phase('graph quality of the two-worker run', () => withBenchDb(async (db) => measureGraphQuality(db, 'student_similarity', await exactAfter(workload.events.length))));
      printQuality('service (two workers)', quality);
      serviceTwoWorkers = { ...run, quality };
    }

    const ratios = { serviceOverB: defaultRun.throughput.eventsPerSecond / baselines.b.eventsPerSecond, serviceOverA: defaultRun.throughput.eventsPerSecond / baselines.a.eventsPerSecond };
    const service = { ...defaultRun, quality: serviceQuality };
    const results: W1Results = {
      workload: 'W1',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      data: { description: source.description, synthetic: source.synthetic },
      options,
      dimension: workload.dimension,
      k: K,
      threshold: THRESHOLD,
      eventMix: { stream: countByKind(streamEvents), latencyPhase: countByKind(latencyEvents) },
      indexBuilds,
      ceiling,
      service,
      serviceOtherMode,
      serviceTwoWorkers,
      baselines,
      forwardFloor,
      ratios,
      targets: checkTargets({ service, serviceTwoWorkers, ratios }),
      notes,
    };
    const files = writeResults(results, options.out);
    printSummary(results);
    console.log(`\nresults: ${files.filter((f) => !/latest-/.test(f)).join(', ')}`);
  } finally {
    if (options.dropDb) await dropBenchDatabase();
  }
}

/** The state a service run starts from: the initial embeddings under a fresh HNSW index. */
async function resetToInitialEmbeddingsWithHnsw(db: Client): Promise<void> {
  await dropIndex(db, HNSW_INDEX);
  await restoreInitialEmbeddings(db);
  await buildHnswIndex(db);
}

type Phase = <T>(label: string, work: (attempt: number) => Promise<T>, maxAttempts?: number) => Promise<T>;

/** An interrupted rebuild resumes from its checkpoint, so its attempts are never wasted. */
const REBUILD_ATTEMPTS = 50;

/**
 * How a run gets its initial graph: the CLI's rebuild, every student's first event through the
 * worker (timed as its own phase), or a snapshot an earlier run kept.
 */
type InitialGraph = 'cli' | 'first-events' | 'snapshot';

interface ServiceRunPlan {
  extraEnv: Record<string, string>;
  initialGraph: InitialGraph;
  workers: number;
  /** Where the rebuilt graph is kept, so a rerun of the stream starts from it again. */
  snapshot: string;
  /** Whether the database already holds the initial embeddings under HNSW (else they are restored first). */
  startsFromInitialState: boolean;
}

/**
 * The service in two restartable phases: the initial graph by the CLI (an interrupted rebuild
 * resumes from its checkpoint), then the stream (a rerun starts again from the initial
 * embeddings and the kept graph). With first events, the stream phase builds the graph itself
 * first (a rerun starts again from no graph), and keeps it.
 */
async function serviceRun(phase: Phase, build: ServiceBuild, workload: Workload, stream: ServiceStream, plan: ServiceRunPlan): Promise<Omit<ServiceRun, 'quality'>> {
  const service = await prepareService(build, workload.dimension, plan.extraEnv);
  let initialState = plan.startsFromInitialState;
  let rebuildSeconds = 0;
  if (plan.initialGraph === 'cli') {
    await phase(`${service.label}: initial graph (CLI rebuild)`, (attempt) =>
      withBenchDb(async (db) => {
        if (attempt === 1) console.log(describeService(service));
        if (!initialState) {
          await resetToInitialEmbeddingsWithHnsw(db);
          initialState = true;
        }
        const started = performance.now();
        try {
          await rebuildGraph(service, attempt > 1);
        } finally {
          rebuildSeconds += (performance.now() - started) / 1000;
        }
        console.log(`  rebuilt in ${rebuildSeconds.toFixed(1)} s${attempt > 1 ? ` (over ${attempt} attempts, each resuming the last)` : ''}`);
        await snapshotGraph(db, plan.snapshot);
      }),
      REBUILD_ATTEMPTS,
    );
  }
  const firstEvents = plan.initialGraph === 'first-events';
  const title = `${service.label}${plan.workers > 1 ? `, ${plan.workers} workers` : ''}: ${firstEvents ? `first events of ${workload.ids.length} students, then ` : ''}sustained stream, then ${stream.latencyRate} events/s`;
  const run = await phase(title, (attempt) =>
    withBenchDb(async (db) => {
      if (attempt === 1 && plan.initialGraph !== 'cli') console.log(describeService(service));
      if (attempt > 1 || !initialState) {
        await resetToInitialEmbeddingsWithHnsw(db);
        initialState = true;
      }
      if (firstEvents) await emptyGraph(db);
      else if (attempt > 1 || plan.initialGraph === 'snapshot') await restoreGraph(db, plan.snapshot);
      return runStream(db, service, stream, {
        workers: plan.workers,
        firstComputations: firstEvents ? workload.ids : [],
        afterFirstComputations: () => snapshotGraph(db, plan.snapshot),
      });
    }),
  );
  return { ...run, rebuildSeconds };
}

/** Brute-force exact lists after a number of events, computed once per state and shared by the runners. */
function exactCache(workload: Workload, options: W1Options) {
  const cache = new Map<number, ReturnType<typeof exactNeighbors>>();
  return (eventCount: number) => {
    if (!cache.has(eventCount)) {
      const { ids, vectors } = vectorsAfter(workload, eventCount);
      const started = performance.now();
      cache.set(
        eventCount,
        exactNeighbors(ids, vectors, spreadSample(ids, options.qualitySample), K, THRESHOLD).then((exact) => {
          console.log(`  brute force: ${exact.size} lists over ${ids.length} students in ${((performance.now() - started) / 1000).toFixed(1)} s`);
          return exact;
        }),
      );
    }
    return cache.get(eventCount)!;
  };
}

/** The floor from the initial state (embeddings under a fresh HNSW index, the default run's initial graph), over the whole stream. */
async function runFloorPhase(db: Client, workload: Workload, exactAfter: ReturnType<typeof exactCache>): Promise<ForwardFloorRun> {
  await resetToInitialEmbeddingsWithHnsw(db);
  await copyGraphInto(db, DEFAULT_GRAPH, FLOOR_GRAPH);
  await db.query('CHECKPOINT');
  const upstream = await connect();
  try {
    const result = await runForwardFloor(db, upstream, workload.events, K, THRESHOLD, FLOOR_BATCH);
    const quality = await measureGraphQuality(db, FLOOR_GRAPH, await exactAfter(workload.events.length));
    console.log(`  ${result.eventsPerSecond.toFixed(1)} events/s (upstream writes and the floor one after the other)`);
    printQuality('the floor', quality);
    return { ...result, quality };
  } finally {
    await upstream.end();
  }
}

/** A baseline from the initial state (embeddings and graph), on its own IVFFlat lists=32 index and no other. */
async function runBaselinePhase(db: Client, kind: BaselineKind, workload: Workload, count: number, exactAfter: ReturnType<typeof exactCache>): Promise<BaselineRun> {
  await dropIndex(db, HNSW_INDEX);
  await dropIndex(db, SEED_IVFFLAT_INDEX);
  await restoreInitialEmbeddings(db);
  await copyGraphInto(db, DEFAULT_GRAPH, BASELINE_GRAPH);
  await buildIvfflatIndex(db, SEED_IVFFLAT_INDEX, SEED_IVFFLAT_LISTS);
  try {
    const result = await runBaseline(db, kind, workload.events.slice(0, count), THRESHOLD);
    console.log(`  ${result.eventsPerSecond.toFixed(1)} events/s; per event p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms; plan: ${result.planTop}`);
    const quality = await measureGraphQuality(db, BASELINE_GRAPH, await exactAfter(count));
    printQuality(`baseline (${kind})`, quality);
    return { ...result, quality, qualityAfterEvents: count };
  } finally {
    await dropIndex(db, SEED_IVFFLAT_INDEX).catch(() => undefined);
  }
}

function step(text: string): void {
  console.log(`\n== ${text} [${new Date().toISOString().slice(11, 19)}]`);
}

function printQuality(label: string, q: GraphQuality): void {
  console.log(`  ${label}: recall@${K} ${q.recall.toFixed(4)}, lists exactly right ${(q.exactLists * 100).toFixed(1)}% of ${q.checked}, missing ${JSON.stringify(q.missedHistogram)}`);
}

function printSummary(r: W1Results): void {
  console.log('\n== summary');
  console.log(`${'runner'.padEnd(14)} ${'events/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'recall'.padStart(7)} ${'exact'.padStart(6)}`);
  const row = (label: string, rate: number, l: { p50: number; p95: number; p99: number }, q: GraphQuality) =>
    console.log(`${label.padEnd(14)} ${rate.toFixed(1).padStart(9)} ${l.p50.toFixed(1).padStart(8)} ${l.p95.toFixed(1).padStart(8)} ${l.p99.toFixed(1).padStart(8)} ${q.recall.toFixed(4).padStart(7)} ${(q.exactLists * 100).toFixed(0).padStart(5)}%`);
  row(`service, ${r.service.settings.CANDIDATE_SEARCH}`, r.service.throughput.eventsPerSecond, r.service.latency.latencyMs, r.service.quality);
  if (r.serviceTwoWorkers) row('service, 2 wkrs', r.serviceTwoWorkers.throughput.eventsPerSecond, r.serviceTwoWorkers.latency.latencyMs, r.serviceTwoWorkers.quality);
  if (r.serviceOtherMode) row(`service, ${r.serviceOtherMode.settings.CANDIDATE_SEARCH}`, r.serviceOtherMode.throughput.eventsPerSecond, r.serviceOtherMode.latency.latencyMs, r.serviceOtherMode.quality);
  row('baseline (b)', r.baselines.b.eventsPerSecond, r.baselines.b.latencyMs, r.baselines.b.quality);
  row('baseline (a)', r.baselines.a.eventsPerSecond, r.baselines.a.latencyMs, r.baselines.a.quality);
  console.log('(service latency: event to commit at a fixed rate; baselines: handler time per event)');
  for (const t of r.targets) console.log(`${t.met ? 'MET    ' : 'NOT MET'} ${t.name}: ${t.measured} (target ${t.target})`);
  for (const note of r.notes) console.log(`note: ${note}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
