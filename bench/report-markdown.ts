import { CappedResults } from './capped-workers';
import { CPU_GROUPS, CpuByProcess } from './cpu-by-process';
import { GraphQuality, MISSED_BUCKETS } from './graph-quality';
import { ThroughputResult } from './service-phases';
import { ServiceRun, W1Results } from './w1-results';

const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const table = (header: string[], rows: (string | number)[][]) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');

/** The results as a markdown report: targets first, then every measured table. */
export function renderMarkdown(r: W1Results): string {
  const { service: s, baselines: b } = r;
  const services = [s, ...(r.serviceTwoWorkers ? [r.serviceTwoWorkers] : [])];
  const sections = [
    `# W1 benchmark: ${r.options.students.toLocaleString('en')} students x ${r.dimension} dims, ${r.options.events.toLocaleString('en')} events`,
    `Run ${r.startedAt} to ${r.finishedAt}. K = ${r.k}, threshold ${r.threshold}, seed ${r.options.seed}.`,
    `**Data:** ${r.data.synthetic ? '**' + r.data.description + '**' : r.data.description}.`,
    `**Machine:** ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB RAM, ${r.machine.os}; Node ${r.machine.node}, PostgreSQL ${r.machine.postgres}, pgvector ${r.machine.pgvector}. Shared, noisy machine (other work ran at the same time).`,
    `**Service measured:** ${s.source.from === 'commit' ? `commit \`${s.source.commit}\`` : `working tree at \`${s.source.commit}\`${s.source.dirty ? ' with uncommitted changes in src/ or migrations/' : ''}`}, compiled with tsc, run with plain node.`,
    `**Worker settings:** ${Object.entries(s.settings).map(([k, v]) => `\`${k}=${v}\``).join(', ')}.`,
    '## Targets (the service with its default settings)',
    table(['what', 'target', 'measured', 'met'], r.targets.map((t) => [t.name, t.target, t.measured, t.met ? 'yes' : '**no**'])),
    ...floorScale(r),
    '## Throughput and latency',
    table(
      ['runner', 'events', 'events/s', 'vs (b)', 'latency p50 / p95 / p99 (ms)', 'search plan'],
      [
        ...services.map((x) => [
          x.label,
          x.throughput.events,
          f(x.throughput.eventsPerSecond),
          `${f(x.throughput.eventsPerSecond / b.b.eventsPerSecond, 2)}x`,
          `${f(x.latency.latencyMs.p50)} / ${f(x.latency.latencyMs.p95)} / ${f(x.latency.latencyMs.p99)} (event to commit at ${x.latency.targetRate}/s)`,
          '',
        ]),
        [`baseline (b): ${b.b.description}`, b.b.events, f(b.b.eventsPerSecond), '', `${f(b.b.latencyMs.p50)} / ${f(b.b.latencyMs.p95)} / ${f(b.b.latencyMs.p99)} (handler per event)`, b.b.planTop],
      ],
    ),
    `Service: end to end, from the first publish to the last committed offset (upstream row writes included; events published in chunks of 500, each chunk after its rows). ` +
      `Baseline: time in the handler only (the upstream row write before each event is not counted), one event at a time on one connection.`,
    ...services.map(
      (x) =>
        `${x.label}: latency over ${x.latency.events} events at ${x.latency.targetRate}/s (achieved ${f(x.latency.achievedRate, 0)}/s), mean poll interval ${f(x.latency.pollIntervalMs, 2)} ms; ` +
        `the worker's own histogram (record timestamp to commit) over the same phase gives a mean of ${f(latencyPhaseMeanMs(x))} ms (bench: ${f(x.latency.latencyMs.mean)} ms). ` +
        (x.throughput.eventsPerSecond < x.latency.targetRate
          ? `It sustains only ${f(x.throughput.eventsPerSecond, 0)} events/s, less than the ${x.latency.targetRate}/s of this phase: its queue grows during the phase, so these latencies measure the backlog. `
          : '') +
        `Peak RSS (VmHWM of the worker's node process, compiled JS${x.workers > 1 ? ', the larger of the workers' : ''}): **${f(x.peakRssBytes / 2 ** 20, 0)} MB** (${f(x.peakRssAfterSustainedBytes / 2 ** 20, 0)} MB already after the sustained phase). ` +
        (x.firstComputations
          ? `Initial graph by every student's first event through the worker: ${x.firstComputations.events} events in ${f(x.firstComputations.seconds)} s = **${f(x.firstComputations.eventsPerSecond)} events/s**, WAL ${f(x.firstComputations.walBytes / x.firstComputations.events / 1024, 0)} KB per event.`
          : "Initial graph: the one-worker run's, restored."),
    ),
    `Latency method: ${s.latency.method}.`,
    ...((s.settle ?? []).length > 0
      ? [
          '## Settle latency',
          table(
            ['runner', 'share of its sustained rate', 'events/s (achieved)', 'events', 'event to settled p50 / p95 / p99 (ms)'],
            services.flatMap((x) =>
              (x.settle ?? []).map((m) => [x.label, `${f(100 * m.shareOfCapacity, 0)}%`, `${f(m.targetRate)} (${f(m.achievedRate)})`, m.events, `${f(m.latencyMs.p50)} / ${f(m.latencyMs.p95)} / ${f(m.latencyMs.p99)}`]),
            ),
          ),
          `Each phase starts from a settled graph. Settle method: ${s.settle[0].method}.`,
        ]
      : []),
    '## Graph quality after the stream',
    table(
      ['runner', 'after events', 'lists checked', 'recall@15', 'lists exactly right', ...MISSED_BUCKETS.map((x) => `missing ${x}`)],
      [
        ...services.map((x) => qualityRow(x.label, x.throughput.events + x.latency.events + (x.settle ?? []).reduce((n, m) => n + m.events, 0), x.quality)),
        qualityRow('baseline (b)', b.b.events, b.b.quality),
        qualityRow('the floor', r.forwardFloor.events, r.forwardFloor.quality),
      ],
    ),
    'Exact lists by brute force (exactTopK over the final vectors, Float32) for the students present at the end; compareWithExact with tolerance 1e-4. "missing n": lists that miss n of their exact neighbours.',
    '## Where the time goes (sustained phase)',
    table(
      ['runner', 'batches', 'mean batch size', 'mean batch time', 'time per event', 'waiting for the worker\'s turn', 'waiting for the graph lock', 'longest batch', 'longest graph transaction', 'WAL per event', 'lists repaired', 'pool refills', 'machine CPU busy', 'VACUUM left for student_embeddings'],
      services.map((x) => {
        const m = x.metrics.sustained;
        const batches = m.similarity_batch_duration_seconds_count;
        return [
          x.label,
          batches,
          f(m.similarity_batch_size_events_sum / batches),
          `${f((1000 * m.similarity_batch_duration_seconds_sum) / batches)} ms`,
          `${f((1000 * m.similarity_batch_duration_seconds_sum) / m.similarity_batch_size_events_sum, 2)} ms`,
          `${f((100 * m.similarity_graph_turn_wait_seconds_sum) / m.similarity_batch_duration_seconds_sum)}% of batch time`,
          `${f((100 * m.similarity_graph_lock_wait_seconds_sum) / m.similarity_batch_duration_seconds_sum)}% of batch time`,
          `${f(x.metrics.total.similarity_batch_duration_max_seconds, 2)} s`,
          x.metrics.total.similarity_graph_transaction_max_seconds ? `${f(x.metrics.total.similarity_graph_transaction_max_seconds, 2)} s` : '- (not served by this build)',
          `${f(x.throughput.walBytes / x.throughput.events / 1024, 0)} KB`,
          m.similarity_lists_repaired_total,
          m.similarity_pool_refills_total,
          x.throughput.machineCpuBusy == null ? '-' : `${f(x.throughput.machineCpuBusy * 100, 0)}%`,
          `${f(x.vacuumAfterSustainedSeconds)} s (${f((1000 * x.vacuumAfterSustainedSeconds) / x.throughput.events, 2)} ms per event)`,
        ];
      }),
    ),
    'Batch time is the worker\'s own: its search, its wait for its turn (its other partitions\' transactions, outside any transaction) and its graph transaction (the wait for the lock, held by another worker, included); the longest batch and transaction are over the whole run. WAL per event: the server\'s WAL position before and after the sustained phase, divided by its events; it includes the upstream row writes and their HNSW index inserts. Machine CPU busy: the share of all cores\' time (/proc/stat) busy during the phase, every process included (PostgreSQL, Kafka, the bench\'s own writes). VACUUM left: a `VACUUM (PARALLEL 0) student_embeddings` right after the phase (one core, mostly the HNSW index), the part of the upstream\'s vacuum that autovacuum had not done during the phase.',
    ...cpuByProcessSection(services),
    ...forwardFloorSection(r),
    ...(r.capped ? ['## Capped workers: does a replica add throughput?', cappedTables(r.capped)] : []),
    '## Event mix',
    table(['phase', ...Object.keys(r.eventMix.stream)], [['sustained stream', ...Object.values(r.eventMix.stream)], ['latency phase', ...Object.values(r.eventMix.latencyPhase)]]),
    ...(r.notes.length ? ['## Notes', r.notes.map((n) => `- ${n}`).join('\n')] : []),
  ];
  return sections.join('\n\n') + '\n';
}

function qualityRow(label: string, afterEvents: number, q: GraphQuality): (string | number)[] {
  return [label, afterEvents, q.checked, f(q.recall, 4), `${f(q.exactLists * 100)}%`, ...MISSED_BUCKETS.map((n) => q.missedHistogram[n])];
}

/** Mean of similarity_event_to_commit_seconds over the latency phase (total minus the sustained phase). */
function latencyPhaseMeanMs(s: ServiceRun): number {
  const sum = s.metrics.total.similarity_event_to_commit_seconds_sum - s.metrics.sustained.similarity_event_to_commit_seconds_sum;
  const count = s.metrics.total.similarity_event_to_commit_seconds_count - s.metrics.sustained.similarity_event_to_commit_seconds_count;
  return (1000 * sum) / count;
}

const CPU_GROUP_NAMES: Record<keyof CpuByProcess, string> = {
  worker: 'worker (node)',
  databaseSessions: "PostgreSQL: the worker's sessions",
  upstreamWrites: 'PostgreSQL: the upstream row writes (HNSW inserts)',
  databaseBackground: "PostgreSQL: processes that ended (mostly the worker's sessions closed when idle; autovacuum), WAL, checkpoints",
  kafka: 'Kafka broker',
  bench: 'bench (publishing, polling)',
  rest: 'rest of the machine',
};

function floorScale(r: W1Results): string[] {
  const ceiling = r.floorCeiling;
  return ceiling
    ? [`For scale: the cheapest worker that searches the index once per changed student (the floor, below) needs ${f(ceiling.msPerEvent, 2)} ms of CPU per event, so these ${r.machine.cores} cores allow it at most ${f(ceiling.eventsPerSecond, 0)} events/s.`]
    : [];
}

/** The floor's CPU per event and what it leaves of the machine (none without /proc). */
function forwardFloorSection(r: W1Results): string[] {
  const floor = r.forwardFloor;
  const ceiling = r.floorCeiling;
  if (!floor.cpuMs || !ceiling) return [];
  const perEvent = (ms: number) => ms / floor.events;
  return [
    '## The floor: the cheapest worker that searches per event',
    table(
      ['runner', 'events', 'batch', 'events/s (upstream writes, then the floor)', "CPU ms per event: the floor's session", "the upstream's session", 'bench node (both clients)', 'PostgreSQL background', 'all but the rest of the machine'],
      [[
        `forward only, top-${r.k} at ef_search ${floor.efSearch}`,
        floor.events,
        floor.batch,
        f(floor.eventsPerSecond),
        f(perEvent(floor.cpuMs.databaseSessions), 2),
        f(perEvent(floor.cpuMs.upstreamWrites), 2),
        f(perEvent(floor.cpuMs.bench), 2),
        f(perEvent(floor.cpuMs.databaseBackground), 2),
        f(ceiling.ownMsPerEvent, 2),
      ]],
    ),
    `Each batch's changed students get their own top-${r.k} at pgvector's default \`hnsw.ef_search\` and their lists replaced, in one transaction; nothing else is repaired (the seed's algorithm, batched), from the default run's initial graph over the same ${floor.events} events. ` +
      `With the Kafka broker's ${f(ceiling.kafkaMsPerEvent, 2)} ms per event from the service's sustained phase, this floor needs ${f(ceiling.msPerEvent, 2)} ms of CPU per event, so ${r.machine.cores} cores allow it at most **${f(ceiling.eventsPerSecond, 0)} events/s** at this batch size: ` +
      `a worker that searches the index once per changed student and repairs nothing else sustains no more on this machine, and the service's reverse repair adds to that, never takes from it.`,
  ];
}

/** CPU milliseconds per event by process, for each phase that recorded them (none without /proc). */
function cpuByProcessSection(services: ServiceRun[]): string[] {
  const phases = services.flatMap((x) => [
    ...(x.firstComputations ? [{ label: `${x.label}, first computations`, phase: x.firstComputations }] : []),
    { label: `${x.label}, sustained stream`, phase: x.throughput },
  ]).filter((p): p is { label: string; phase: ThroughputResult & { cpuMs: CpuByProcess } } => !!p.phase.cpuMs);
  if (phases.length === 0) return [];
  const perEvent = (p: ThroughputResult & { cpuMs: CpuByProcess }, group: keyof CpuByProcess) => p.cpuMs[group] / p.events;
  return [
    '## CPU per event, by process',
    table(
      ['phase', ...CPU_GROUPS.map((g) => CPU_GROUP_NAMES[g]), 'all (ms per event)'],
      phases.map(({ label, phase }) => [label, ...CPU_GROUPS.map((g) => f(perEvent(phase, g), 2)), f(Object.values(phase.cpuMs).reduce((sum, ms) => sum + ms, 0) / phase.events, 2)]),
    ),
    "CPU time from /proc during the phase, divided by its events: each process's user and system time (PostgreSQL's processes that ended, such as the worker's pool sessions that node-postgres closes after 10 s idle or an autovacuum worker, in sum from the postmaster's ended-children time, so read that column together with the worker's sessions; the server log's autovacuum lines say which part was vacuum); the rest is the machine's busy time (/proc/stat) that no process listed accounts for: the kernel, other processes. A throughput of E events/s on C cores leaves at most 1000 C / E ms of CPU per event.",
  ];
}

const REPAIR_STEPS = ['holdings', 'entering', 'load', 'vectors', 'judge', 'refill', 'write'];

/** Machine busy share above which a capped run no longer shows the workers' limit alone. */
const SATURATED = 0.9;

/** The capped table (printed and written into the markdown) and the skew table. */
export function cappedTables(c: CappedResults): string {
  const settleMetric = c.runs[0]?.settle.metric ?? '';
  const serialMetrics = c.runs[0]?.serial.metrics ?? '';
  const runs = table(
    ['workers', 'moves/s', 'vs 1 worker', 'CPU ms/move: workers', 'PostgreSQL', 'Kafka', 'rest', 'machine busy', 'recall@15', `settle p50 / p95 / p99 ms`, 'serial ms/move', 'ceiling moves/s', 'throttled s (per worker)', 'repair entries'],
    c.runs.map((r) => [
      r.workers,
      f(r.throughput.eventsPerSecond),
      `${f(r.speedUp, 2)}x`,
      ...(r.cpuMsPerMove ? [r.cpuMsPerMove.workers, r.cpuMsPerMove.postgres, r.cpuMsPerMove.kafka, r.cpuMsPerMove.rest].map((x) => f(x, 2)) : ['-', '-', '-', '-']),
      r.throughput.machineCpuBusy === null ? '-' : `${f(100 * r.throughput.machineCpuBusy, 0)}%`,
      f(r.quality.recall, 4),
      `${f(r.settle.p50)} / ${f(r.settle.p95)} / ${f(r.settle.p99)}`,
      f(1000 * r.serial.secondsPerMove, 2),
      r.serial.secondsPerMove > 0 ? f(r.serial.ceilingMovesPerSecond, 0) : 'none',
      r.throttling.map((t) => f(t.throttledSeconds)).join(', '),
      r.repairEntries.reduce((s, x) => s + x, 0),
    ]),
  );
  const notes =
    `${c.events} events per run, ${c.plan.partitions} partitions, each worker in its own cgroup v1 CPU quota of ${c.plan.quotaCores} core; every run from the same initial embeddings and graph, on fresh topics and a fresh group; ` +
    `moves/s from the first publish until the group has consumed the input and the repair topic. Settle latency from \`${settleMetric}\`${settleMetric.endsWith('commit_seconds') ? ' (event to commit: this build serves no settle histogram)' : ''}; ` +
    `serial section from \`${serialMetrics}\`${serialMetrics.includes('graph_') ? " (the graph lock's and the worker turn's waits: this build has no owner lock)" : ''}, its ceiling 1 / (serial seconds per move)${serialMetrics.includes('graph_') ? '' : " (a worker's own events and repairs batches of a partition take turns in the worker, not on the owner row: this wait is only another writer's)"}. ` +
    `The events are published as fast as the producer goes, so settle latency includes the queue the run builds. ` +
    `CPU ms per move from /proc: PostgreSQL is every PostgreSQL process, rest is the bench and the rest of the machine.` +
    (c.runs.some((r) => (r.throughput.machineCpuBusy ?? 0) >= SATURATED)
      ? ` **The machine was at least ${100 * SATURATED}% busy in a run: PostgreSQL and Kafka may have been short of CPU, so its speed-up says little about the workers.**`
      : '');
  const batchTime = table(
    ['workers', 'event batches ms/move', 'repair batches ms/move', ...REPAIR_STEPS.map((s) => `repair: ${s}`)],
    c.runs.map((r) => [r.workers, f(r.batchMsPerMove.events, 2), f(r.batchMsPerMove.repairs, 2), ...REPAIR_STEPS.map((s) => (s in r.batchMsPerMove.repairSteps ? f(r.batchMsPerMove.repairSteps[s], 2) : '-'))]),
  );
  const batchNotes =
    'Batch time per move, wall clock summed over the workers (`similarity_batch_duration_seconds`, `similarity_repair_batch_duration_seconds`), and the repair batches by step (`similarity_repair_step_seconds_total`): ' +
    "holdings reads who in the partition holds a subject or seed, entering checks the offers against the pools' bounds, load reads the pools, vectors the versions and similarities, judge is the pure judgement, refill searches the pools that fell below K, write saves pools and lists; the rest of a repair batch is its turn, fence, BEGIN and COMMIT.";
  const withBatchTime = `${runs}\n\n${notes}\n\n${batchTime}\n\n${batchNotes}`;
  if (!c.skew) return withBatchTime;
  const s = c.skew;
  const skew = table(['partition', ...s.moves.map((_, p) => String(p)), 'max/mean'], [
    ['moves', ...s.moves, ''],
    ['repair entries', ...s.repairs, ''],
    ['load', ...s.moves.map((m, p) => m + s.repairs[p]), f(s.maxOverMean, 2)],
  ]);
  return `${withBatchTime}\n\nPartition skew at ${s.partitions} partitions (one uncapped worker, same events): moves by partitionOfKey of the stream's keys, plus the RepairMessage entries read back from each partition of the repair topic (a partition's own share applied in its own transaction is not in the topic).\n\n${skew}`;
}
