import { Command, InvalidArgumentError } from 'commander';
import * as path from 'path';
import { defaultDataDir } from '../workload/real-students';

/** The run's options as parsed, each documented by its --help text. */
export type W1Options = ReturnType<typeof parseW1Options>;

const SMALL_RUN = 20_000;

const positiveFraction = (value: string) => {
  const parsed = Number(value);
  if (!(parsed > 0)) throw new InvalidArgumentError('must be a positive number');
  return parsed;
};

const positiveInteger = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
};

/** Parses the command line; defaults that depend on the size (latency phase, quality sample) follow --students. */
export function parseW1Options(argv: string[]) {
  const program = new Command()
    .name('bench/w1.ts')
    .description('Workload W1: real-vector students, an event stream through the worker, the seed baseline, the floor, graph quality')
    .option('--students <n>', 'students', positiveInteger, 100_000)
    .option('--events <n>', 'events of the sustained stream', positiveInteger, 20_000)
    .option('--vectors <dir>', 'directory with items-minilm-384.f16.npy and items-topic.u16.npy (default: ../shared/data)')
    .option('--topics <n>', 'draw students from the items of the n largest topics only (a dense stream; default: all topics)', positiveInteger)
    .option('--seed <n>', 'seed of the students and events', positiveInteger, 20240601)
    .option('--out <dir>', 'where the results go', path.resolve(__dirname, 'results'))
    .option('--latency-events <n>', 'events of the fixed-rate latency phase (default: 1,000 up to 20,000 students, else 2,000)', positiveInteger)
    .option('--latency-rate <n>', 'events/s of the latency phase', positiveInteger, 200)
    .option('--no-two-worker-run', 'skip the extra service run with two workers in one group')
    .option('--quality-sample <n>', 'students whose lists are checked (default: all up to 20,000 students, else 3,000)', positiveInteger)
    .option('--service-commit <rev>', 'build the service from this commit (git archive) instead of the working tree')
    .option('--drop-db', 'drop the similarity_bench database at the end')
    .option('--no-capped-run', 'skip the capped runs (1, 2, 3 workers, each in its own CPU quota)')
    .option('--only-capped', 'build the initial graph, then only the capped runs and the skew run (no stream, latency, baseline, floor)')
    .option('--capped-events <n>', 'events replayed by each capped run', positiveInteger, 3000)
    .option('--capped-workers <list>', 'worker counts of the capped runs, comma-separated', (v) => v.split(',').map(positiveInteger), [1, 2, 3])
    .option('--worker-quota <cores>', 'CPU quota of each capped worker, in cores (cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us)', positiveFraction, 0.15)
    .option('--capped-partitions <n>', 'partitions of the topics of the capped runs', positiveInteger, 6)
    .option('--skew-partitions <n>', 'partitions of the skew run (0: none)', (v) => (v === '0' ? 0 : positiveInteger(v)), 12)
    .parse(argv);
  type Parsed = { students: number; events: number; vectors?: string; topics?: number; seed: number; out: string; latencyEvents?: number; latencyRate: number };
  type Capped = { cappedRun: boolean; onlyCapped?: boolean; cappedWorkers: number[]; cappedEvents: number; workerQuota: number; cappedPartitions: number; skewPartitions: number };
  const o = program.opts<Parsed & Capped & { twoWorkerRun: boolean; qualitySample?: number; serviceCommit?: string; dropDb?: boolean }>();
  const small = o.students <= SMALL_RUN;
  const latencyEvents = o.latencyEvents ?? (small ? 1000 : 2000);
  return {
    students: o.students,
    events: o.events,
    vectors: o.vectors ? path.resolve(o.vectors) : defaultDataDir(),
    topics: o.topics ?? null,
    seed: o.seed,
    out: path.resolve(o.out),
    latencyEvents,
    latencyRate: o.latencyRate,
    twoWorkerRun: o.twoWorkerRun,
    qualitySample: o.qualitySample ?? (small ? o.students : 3000),
    dropDb: !!o.dropDb,
    serviceCommit: o.serviceCommit ?? null,
    onlyCapped: !!o.onlyCapped,
    capped: o.cappedRun || o.onlyCapped ? { workerCounts: o.cappedWorkers, quotaCores: o.workerQuota, partitions: o.cappedPartitions, skewPartitions: o.skewPartitions, events: o.cappedEvents } : null,
  };
}
