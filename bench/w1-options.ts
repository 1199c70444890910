import { Command, InvalidArgumentError } from 'commander';
import * as path from 'path';
import { defaultDataDir } from '../workload/real-students';

export interface W1Options {
  students: number;
  events: number;
  /** Directory with the real item vectors; null: the synthetic fallback. */
  vectors: string | null;
  /** Only the items of this many largest topics: a dense stream. Null: all items. */
  topics: number | null;
  seed: number;
  out: string;
  /** How many events baseline (a) runs (a prefix of the stream). */
  baselineAEvents: number;
  /** Events produced at a fixed rate for the latency phase, after the sustained stream. */
  latencyEvents: number;
  latencyRate: number;
  skipCeiling: boolean;
  /** An extra, separately labelled service run with the other CANDIDATE_SEARCH than the default. */
  otherModeRun: boolean;
  /** An extra run of the same stream from the same initial graph with two workers in one group. */
  twoWorkerRun: boolean;
  /** Students whose stored lists are checked against brute force. */
  qualitySample: number;
  dropDb: boolean;
  /** Build the service from this commit (git archive) instead of the working tree. */
  serviceCommit: string | null;
}

const SMALL_RUN = 20_000;

const positiveInteger = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
};

/** Parses the command line; defaults that depend on the size (baseline (a) prefix, quality sample) follow --students. */
export function parseW1Options(argv: string[]): W1Options {
  const program = new Command()
    .name('bench/w1.ts')
    .description('Workload W1: real-vector students, an event stream through the worker, baselines, pgvector ceiling, graph quality')
    .option('--students <n>', 'students', positiveInteger, 100_000)
    .option('--events <n>', 'events of the sustained stream', positiveInteger, 20_000)
    .option('--vectors <dir>', 'directory with items-minilm-384.f16.npy and items-topic.u16.npy (default: ../shared/data)')
    .option('--topics <n>', 'draw students from the items of the n largest topics only (a dense stream; default: all topics)', positiveInteger)
    .option('--seed <n>', 'seed of the students and events', positiveInteger, 20240601)
    .option('--out <dir>', 'where the results go', path.resolve(__dirname, 'results'))
    .option('--baseline-a-events <n>', 'events baseline (a) runs (default: all up to 20,000 students, else 1,000)', positiveInteger)
    .option('--latency-events <n>', 'events of the fixed-rate latency phase (default: 1,000 up to 20,000 students, else 2,000)', positiveInteger)
    .option('--latency-rate <n>', 'events/s of the latency phase', positiveInteger, 200)
    .option('--skip-ceiling', 'skip the raw pgvector query ceiling')
    .option('--no-other-mode-run', 'skip the extra service run with the other CANDIDATE_SEARCH (exact <-> index)')
    .option('--no-two-worker-run', 'skip the extra service run with two workers in one group')
    .option('--quality-sample <n>', 'students whose lists are checked (default: all up to 20,000 students, else 3,000)', positiveInteger)
    .option('--service-commit <rev>', 'build the service from this commit (git archive) instead of the working tree')
    .option('--drop-db', 'drop the similarity_bench database at the end')
    .parse(argv);
  const o = program.opts();
  const small = o.students <= SMALL_RUN;
  const latencyEvents = o.latencyEvents ?? (small ? 1000 : 2000);
  return {
    students: o.students,
    events: o.events,
    vectors: o.vectors ? path.resolve(o.vectors) : defaultDataDir(),
    topics: o.topics ?? null,
    seed: o.seed,
    out: path.resolve(o.out),
    baselineAEvents: o.baselineAEvents ?? (small ? o.events + latencyEvents : 1000),
    latencyEvents,
    latencyRate: o.latencyRate,
    skipCeiling: !!o.skipCeiling,
    otherModeRun: o.otherModeRun !== false,
    twoWorkerRun: o.twoWorkerRun !== false,
    qualitySample: o.qualitySample ?? (small ? o.students : 3000),
    dropDb: !!o.dropDb,
    serviceCommit: o.serviceCommit ?? null,
  };
}
