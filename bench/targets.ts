import { CappedResults } from './capped-workers';
import { CPU_GROUPS } from './cpu-by-process';
import { ServiceRun, TargetCheck, W1Results } from './w1-results';

/**
 * Sustained events/s at W1 of the first design that kept the whole graph true (each pool stored
 * as one whole row, every search under the graph lock): the yardstick the throughput targets are
 * stated against.
 */
export const EVENTS_PER_SECOND_WHOLE_ROW_POOLS = 182;

/** The write path's targets, checked against this run's figures (printed, never asserted). */
export function checkTargets(r: Pick<W1Results, 'service' | 'serviceTwoWorkers' | 'ratios' | 'floorCeiling'>): TargetCheck[] {
  const s = r.service;
  const rssMb = s.peakRssBytes / 2 ** 20;
  const moves = s.throughput.eventsPerSecond;
  const checks: TargetCheck[] = [
    { name: 'sustained throughput (moves)', target: `>= 3x ${EVENTS_PER_SECOND_WHOLE_ROW_POOLS} events/s`, measured: `${moves.toFixed(1)} events/s (${(moves / EVENTS_PER_SECOND_WHOLE_ROW_POOLS).toFixed(2)}x)`, met: moves >= 3 * EVENTS_PER_SECOND_WHOLE_ROW_POOLS },
  ];
  if (s.firstComputations) {
    const first = s.firstComputations.eventsPerSecond;
    checks.push({ name: 'first computations', target: `>= 3x ${EVENTS_PER_SECOND_WHOLE_ROW_POOLS} events/s`, measured: `${first.toFixed(1)} events/s`, met: first >= 3 * EVENTS_PER_SECOND_WHOLE_ROW_POOLS });
  }
  checks.push(
    { name: 'speed-up over baseline (b)', target: '>= 5x (the long-term goal)', measured: `${r.ratios.serviceOverB.toFixed(2)}x`, met: r.ratios.serviceOverB >= 5 },
    { name: 'graph recall@15', target: '>= 0.99', measured: s.quality.recall.toFixed(4), met: s.quality.recall >= 0.99 },
    { name: `p99 event-to-commit at ${s.latency.targetRate} events/s`, target: '<= 50 ms', measured: `${s.latency.latencyMs.p99.toFixed(1)} ms`, met: s.latency.latencyMs.p99 <= 50 },
    ...(s.settle ?? [])
      .filter((x) => x.shareOfCapacity === 0.5)
      .map((x) => ({ name: `p99 event to settled at half capacity (${x.targetRate.toFixed(0)} events/s)`, target: '<= 1000 ms', measured: `${x.latencyMs.p99.toFixed(1)} ms`, met: x.latencyMs.p99 <= 1000 })),
    { name: 'worker peak RSS', target: '<= 256 MB', measured: `${rssMb.toFixed(0)} MB`, met: rssMb <= 256 },
  );
  if (r.serviceTwoWorkers) {
    const ratio = r.serviceTwoWorkers.throughput.eventsPerSecond / moves;
    checks.push({ name: 'two uncapped workers over one', target: '>= 0.95x', measured: `${ratio.toFixed(2)}x`, met: ratio >= 0.95 });
  }
  if (r.floorCeiling && s.throughput.cpuMs) {
    // Both sides count every process but the rest of the machine (the floor's Kafka share is the service's).
    const cpu = s.throughput.cpuMs;
    const perMove = CPU_GROUPS.filter((g) => g !== 'rest').reduce((sum, g) => sum + cpu[g], 0) / s.throughput.events;
    const ratio = perMove / r.floorCeiling.msPerEvent;
    checks.push({ name: 'CPU per move over the floor', target: '<= 4.0x', measured: `${perMove.toFixed(2)} ms vs ${r.floorCeiling.msPerEvent.toFixed(2)} ms (${ratio.toFixed(2)}x)`, met: ratio <= 4 });
  }
  const runs = [s, r.serviceTwoWorkers].filter((x): x is ServiceRun => !!x);
  // A build from before the worker's turns (--service-commit) serves no transaction metric; its
  // batch, which waited for the lock inside its transaction, bounds the transaction instead.
  const measuredByBatch = runs.some((x) => !x.metrics.total.similarity_graph_transaction_max_seconds);
  const longest = Math.max(...runs.map((x) => x.metrics.total.similarity_graph_transaction_max_seconds || x.metrics.total.similarity_batch_duration_max_seconds));
  checks.push({ name: 'longest graph transaction', target: 'a few seconds', measured: `${longest.toFixed(2)} s${measuredByBatch ? ' (the longest batch: this build has no transaction metric)' : ''}`, met: longest <= 5 });
  return checks;
}

/** Speed-up each capped worker count must reach over one capped worker. */
const CAPPED_SPEED_UP: Record<number, number> = { 2: 1.8, 3: 2.6 };
const MAX_PARTITION_SKEW = 1.5;

/** The scale-out targets of the capped runs and the skew run. */
export function cappedTargets(c: CappedResults): TargetCheck[] {
  const checks: TargetCheck[] = c.runs
    .filter((run) => CAPPED_SPEED_UP[run.workers])
    .map((run) => ({ name: `${run.workers} capped workers over one (${c.plan.quotaCores} core each)`, target: `>= ${CAPPED_SPEED_UP[run.workers]}x`, measured: `${run.speedUp.toFixed(2)}x`, met: run.speedUp >= CAPPED_SPEED_UP[run.workers] }));
  if (c.skew) {
    const noRepairs = c.skew.repairs.every((x) => x === 0) ? ' (moves only: no repair entries in the topic)' : '';
    checks.push({ name: `partition skew at ${c.skew.partitions} partitions (max/mean of moves + repairs)`, target: `<= ${MAX_PARTITION_SKEW}`, measured: `${c.skew.maxOverMean.toFixed(2)}${noRepairs}`, met: c.skew.maxOverMean <= MAX_PARTITION_SKEW });
  }
  return checks;
}
