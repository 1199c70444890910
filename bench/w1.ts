/**
 * Workload W1: students built from real sentence embeddings, an event stream through the worker
 * (one worker, then two), the seed's algorithm as baseline (b), the floor, and the graph quality
 * of each against brute force. Usage: npm run bench [-- --students N --events N --vectors DIR ...]; see --help.
 */
import 'reflect-metadata';
import { Client } from 'pg';
import { buildVectorIndex, connect, copyGraphInto, dropIndex, emptyGraph, HNSW_INDEX, loadInitialEmbeddings, migrateWithoutVectorIndex, recreateBenchDatabase, restoreGraph, restoreInitialEmbeddings, snapshotGraph, withBenchDb } from './bench-database';
import { CappedPlan, CappedResults, runCappedPhase, runGroup } from './capped-workers';
import { describeMachine } from './cpu-by-process';
import { cappedTables } from './report-markdown';
import { FLOOR_EF_SEARCH, FLOOR_GRAPH, floorCeiling, runForwardFloor } from './forward-floor';
import { exactNeighbors, GraphQuality, measureGraphQuality, spreadSample } from './graph-quality';
import { writeCappedResults, writeResults } from './results-files';
import { BASELINE_GRAPH, runSeedBaseline, SEED_IVFFLAT_INDEX, SEED_IVFFLAT_LISTS } from './seed-baselines';
import { firstEvents } from './service-phases';
import { describeService, prepareService, runStream, ServiceStream } from './service-run';
import { cappedTargets, checkTargets } from './targets';
import { BaselineRun, ForwardFloorRun, ServiceRun, W1Results } from './w1-results';
import { parseW1Options } from './w1-options';
import { compileService, resolveCommit, ServiceBuild } from './worker-process';
import { buildWorkload, countByKind, vectorsAfter, Workload } from '../workload/event-stream';
import { loadItemSource } from '../workload/item-source';
import { Neighbor } from '../src/similarity/graph/neighbor';

const K = 15;
const THRESHOLD = 0.1;
/** The initial graph the one-worker run builds from first events: the common starting graph of every later runner. */
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

  // The capped runs replay the stream's first events (at most the whole stream).
  const eventCount = options.onlyCapped ? options.capped!.events : options.events + options.latencyEvents;
  step(`workload: ${options.students} students, ${options.onlyCapped ? `${eventCount} events for the capped runs` : `${options.events} + ${options.latencyEvents} events`} (seed ${options.seed})`);
  const workload = buildWorkload(source.items, options.students, eventCount, options.seed);
  const streamEvents = workload.events.slice(0, options.events);
  const latencyEvents = workload.events.slice(options.events);

  step('compile the service (once: every run and the migrations use this build)');
  const build = await compileService(options.serviceCommit ? await resolveCommit(options.serviceCommit) : null);
  try {
    step('database similarity_bench: recreate, migrate (no vector index), load, build the HNSW index');
    await recreateBenchDatabase();
    await migrateWithoutVectorIndex(build, workload.dimension);
    const machine = await withBenchDb(async (db) => {
      await loadInitialEmbeddings(db, workload);
      await buildVectorIndex(db);
      return describeMachine(db);
    });

    if (options.onlyCapped) {
      await buildInitialGraph(build, workload);
      const capped = await cappedPhase(build, workload, options.capped!, options.qualitySample);
      const results = { workload: 'W1 capped workers', startedAt, finishedAt: new Date().toISOString(), machine, data: { description: source.description, synthetic: source.synthetic }, options, dimension: workload.dimension, capped, targets: cappedTargets(capped), notes };
      const files = writeCappedResults(results, options.out);
      for (const t of results.targets) console.log(`${t.met ? 'MET    ' : 'NOT MET'} ${t.name}: ${t.measured} (target ${t.target})`);
      console.log(`\nresults: ${files.join(', ')}`);
      return;
    }

    const stream = { sustained: streamEvents, latency: latencyEvents, latencyRate: options.latencyRate };
    // The first run: it starts from the fresh load and keeps the graph its first events build.
    const oneWorker = await serviceRun(build, workload, stream, { workers: 1, firstEvents: true });

    // Brute force once, over the vectors after the whole stream: every runner ends there.
    step(`graph quality: exact top-${K} by brute force for the sample`);
    const exact = await bruteForce(workload, options.qualitySample);
    const service = { ...oneWorker, quality: await qualityOf('service', 'student_similarity', exact) };

    step(`the floor: forward only at ef_search ${FLOOR_EF_SEARCH}, batches of ${FLOOR_BATCH}`);
    const forwardFloor = await withBenchDb((db) => runFloorPhase(db, workload, exact));

    step(`baseline (b): ${workload.events.length} events, one at a time`);
    const seedBaseline = await withBenchDb((db) => runBaselinePhase(db, workload, exact));

    let serviceTwoWorkers: ServiceRun | null = null;
    if (options.twoWorkerRun) {
      const run = await serviceRun(build, workload, stream, { workers: 2, firstEvents: false });
      serviceTwoWorkers = { ...run, quality: await qualityOf('service (two workers)', 'student_similarity', exact) };
    }

    // A failed capped phase (a broker or server restarted under it) costs its own figures, not the run's.
    const capped = options.capped
      ? await cappedPhase(build, workload, options.capped, options.qualitySample).catch((error: Error) => {
          console.error(error);
          notes.push(`The capped runs failed, no figures from them: ${error.message}`);
          return null;
        })
      : null;

    const ratios = { serviceOverB: service.throughput.eventsPerSecond / seedBaseline.eventsPerSecond };
    const ceiling = floorCeiling(forwardFloor, service.throughput, machine.cores);
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
      service,
      serviceTwoWorkers,
      baselines: { b: seedBaseline },
      forwardFloor,
      floorCeiling: ceiling,
      capped,
      ratios,
      targets: [...checkTargets({ service, serviceTwoWorkers, ratios, floorCeiling: ceiling }), ...(capped ? cappedTargets(capped) : [])],
      notes,
    };
    const files = writeResults(results, options.out);
    printSummary(results);
    console.log(`\nresults: ${files.filter((f) => !/latest-/.test(f)).join(', ')}`);
  } finally {
    if (options.dropDb) await recreateBenchDatabase(false);
  }
}

/** The state a service run starts from: the initial embeddings under a fresh HNSW index. */
async function resetToInitialEmbeddingsWithHnsw(db: Client): Promise<void> {
  await dropIndex(db, HNSW_INDEX);
  await restoreInitialEmbeddings(db);
  await buildVectorIndex(db);
}

/**
 * The service on the sustained stream, then at a fixed rate. With first events, the worker first
 * builds the initial graph from every student's first event (timed as its own phase) and keeps it
 * as DEFAULT_GRAPH; without, the run starts from the initial embeddings and that kept graph.
 */
async function serviceRun(build: ServiceBuild, workload: Workload, stream: ServiceStream, plan: { workers: number; firstEvents: boolean }): Promise<Omit<ServiceRun, 'quality'>> {
  const service = await prepareService(build, workload.dimension);
  step(`${service.label}${plan.workers > 1 ? `, ${plan.workers} workers` : ''}: ${plan.firstEvents ? `first events of ${workload.ids.length} students, then ` : ''}sustained stream, then ${stream.latencyRate} events/s`);
  console.log(describeService(service));
  return withBenchDb(async (db) => {
    if (plan.firstEvents) await emptyGraph(db);
    else {
      await resetToInitialEmbeddingsWithHnsw(db);
      await restoreGraph(db, DEFAULT_GRAPH);
    }
    return runStream(db, service, stream, {
      workers: plan.workers,
      firstComputations: plan.firstEvents ? workload.ids : [],
      afterFirstComputations: () => snapshotGraph(db, DEFAULT_GRAPH),
    });
  });
}

/**
 * The initial graph alone (for --only-capped): every student's first event through one uncapped
 * worker, kept as DEFAULT_GRAPH.
 */
async function buildInitialGraph(build: ServiceBuild, workload: Workload): Promise<void> {
  const service = await prepareService(build, workload.dimension);
  step(`initial graph: first events of ${workload.ids.length} students through one worker`);
  console.log(describeService(service));
  await withBenchDb(async (db) => {
    await emptyGraph(db);
    const run = await runGroup(db, service, firstEvents(workload.ids), { workers: 1, partitions: 3, quotaCores: null }, null);
    console.log(`  first computations: ${run.throughput.events} students in ${run.throughput.seconds.toFixed(1)} s = ${run.throughput.eventsPerSecond.toFixed(1)} events/s`);
    await snapshotGraph(db, DEFAULT_GRAPH);
  });
}

/** The capped runs and the skew run over the stream's first events, each from the initial embeddings and DEFAULT_GRAPH. */
async function cappedPhase(build: ServiceBuild, workload: Workload, plan: CappedPlan & { events: number }, sampleSize: number): Promise<CappedResults> {
  const events = workload.events.slice(0, plan.events);
  step(`graph quality for the capped runs: exact top-${K} after ${events.length} events`);
  const exact = await bruteForce(workload, sampleSize, events.length);
  const service = await prepareService(build, workload.dimension);
  step(`capped workers: ${plan.workerCounts.join(', ')} workers at ${plan.quotaCores} core each, ${plan.partitions} partitions, ${events.length} events per run; skew at ${plan.skewPartitions} partitions`);
  console.log(describeService(service));
  const capped = await withBenchDb((db) =>
    runCappedPhase(db, service, events, plan, async () => {
      await resetToInitialEmbeddingsWithHnsw(db);
      await restoreGraph(db, DEFAULT_GRAPH);
    }, exact),
  );
  console.log(`\n${cappedTables(capped)}`);
  return capped;
}

/** Exact lists of a spread sample of the students present after `eventCount` events (default: the whole stream). */
async function bruteForce(workload: Workload, sampleSize: number, eventCount = workload.events.length): Promise<Map<string, Neighbor[]>> {
  const { ids, vectors } = vectorsAfter(workload, eventCount);
  const started = performance.now();
  const exact = await exactNeighbors(ids, vectors, spreadSample(ids, sampleSize), K, THRESHOLD);
  console.log(`  brute force: ${exact.size} lists over ${ids.length} students in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return exact;
}

async function qualityOf(label: string, table: string, exact: Map<string, Neighbor[]>): Promise<GraphQuality> {
  const quality = await withBenchDb((db) => measureGraphQuality(db, table, exact));
  console.log(`  ${label}: recall@${K} ${quality.recall.toFixed(4)}, lists exactly right ${(quality.exactLists * 100).toFixed(1)}% of ${quality.checked}, missing ${JSON.stringify(quality.missedHistogram)}`);
  return quality;
}

/** The floor from the initial state (embeddings under a fresh HNSW index, the default run's initial graph), over the whole stream. */
async function runFloorPhase(db: Client, workload: Workload, exact: Map<string, Neighbor[]>): Promise<ForwardFloorRun> {
  await resetToInitialEmbeddingsWithHnsw(db);
  await copyGraphInto(db, DEFAULT_GRAPH, FLOOR_GRAPH);
  await db.query('CHECKPOINT');
  const upstream = await connect();
  try {
    const result = await runForwardFloor(db, upstream, workload.events, K, THRESHOLD, FLOOR_BATCH);
    console.log(`  ${result.eventsPerSecond.toFixed(1)} events/s (upstream writes and the floor one after the other)`);
    return { ...result, quality: await qualityOf('the floor', FLOOR_GRAPH, exact) };
  } finally {
    await upstream.end();
  }
}

/** Baseline (b) from the initial state (embeddings and graph), on its own IVFFlat lists=32 index and no other. */
async function runBaselinePhase(db: Client, workload: Workload, exact: Map<string, Neighbor[]>): Promise<BaselineRun> {
  await dropIndex(db, HNSW_INDEX);
  await restoreInitialEmbeddings(db);
  await copyGraphInto(db, DEFAULT_GRAPH, BASELINE_GRAPH);
  await buildVectorIndex(db, SEED_IVFFLAT_INDEX, 'ivfflat', `lists = ${SEED_IVFFLAT_LISTS}`);
  try {
    const result = await runSeedBaseline(db, workload.events, THRESHOLD);
    console.log(`  ${result.eventsPerSecond.toFixed(1)} events/s; per event p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms; plan: ${result.planTop}`);
    return { ...result, quality: await qualityOf('baseline (b)', BASELINE_GRAPH, exact) };
  } finally {
    await dropIndex(db, SEED_IVFFLAT_INDEX).catch(() => undefined);
  }
}

function step(text: string): void {
  console.log(`\n== ${text} [${new Date().toISOString().slice(11, 19)}]`);
}

/** The targets and what the floor allows; each runner's own figures were printed as it ran. */
function printSummary(r: W1Results): void {
  console.log('\n== summary');
  if (r.floorCeiling) console.log(`the floor needs ${r.floorCeiling.msPerEvent.toFixed(2)} ms of CPU per event: at most ${r.floorCeiling.eventsPerSecond.toFixed(0)} events/s on ${r.machine.cores} cores`);
  for (const t of r.targets) console.log(`${t.met ? 'MET    ' : 'NOT MET'} ${t.name}: ${t.measured} (target ${t.target})`);
  for (const note of r.notes) console.log(`note: ${note}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
