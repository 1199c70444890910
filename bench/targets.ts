import { ServiceRun, TargetCheck, W1Results } from './w1-results';

/**
 * Sustained events/s at W1 of the first design that kept the whole graph true (each pool stored
 * as one whole row, every search under the graph lock): the yardstick the throughput targets are
 * stated against.
 */
export const EVENTS_PER_SECOND_WHOLE_ROW_POOLS = 182;

/** The write path's targets, checked against this run's figures (printed, never asserted). */
export function checkTargets(r: Pick<W1Results, 'service' | 'serviceTwoWorkers' | 'ratios'>): TargetCheck[] {
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
    { name: 'worker peak RSS', target: '<= 256 MB', measured: `${rssMb.toFixed(0)} MB`, met: rssMb <= 256 },
  );
  if (r.serviceTwoWorkers) {
    const ratio = r.serviceTwoWorkers.throughput.eventsPerSecond / moves;
    checks.push({ name: 'two workers over one', target: '>= 1.4x', measured: `${ratio.toFixed(2)}x`, met: ratio >= 1.4 });
  }
  const runs = [s, r.serviceTwoWorkers].filter((x): x is ServiceRun => !!x);
  // A build from before the worker's turns (--service-commit) serves no transaction metric; its
  // batch, which waited for the lock inside its transaction, bounds the transaction instead.
  const measuredByBatch = runs.some((x) => !x.metrics.total.similarity_graph_transaction_max_seconds);
  const longest = Math.max(...runs.map((x) => x.metrics.total.similarity_graph_transaction_max_seconds || x.metrics.total.similarity_batch_duration_max_seconds));
  checks.push({ name: 'longest graph transaction', target: 'a few seconds', measured: `${longest.toFixed(2)} s${measuredByBatch ? ' (the longest batch: this build has no transaction metric)' : ''}`, met: longest <= 5 });
  return checks;
}
