import { TargetCheck, W1Results } from './w1-results';

/** The targets, checked against this run's figures (printed, never asserted). */
export function checkTargets(r: Pick<W1Results, 'service' | 'ratios'>): TargetCheck[] {
  const s = r.service;
  const rssMb = s.peakRssBytes / 2 ** 20;
  return [
    { name: 'sustained throughput', target: '>= 1000 events/s', measured: `${s.throughput.eventsPerSecond.toFixed(1)} events/s`, met: s.throughput.eventsPerSecond >= 1000 },
    { name: 'speed-up over baseline (b)', target: '>= 5x', measured: `${r.ratios.serviceOverB.toFixed(2)}x`, met: r.ratios.serviceOverB >= 5 },
    { name: 'speed-up over baseline (a)', target: '>= 75x', measured: `${r.ratios.serviceOverA.toFixed(2)}x`, met: r.ratios.serviceOverA >= 75 },
    { name: 'graph recall@15', target: '>= 0.98', measured: s.quality.recall.toFixed(4), met: s.quality.recall >= 0.98 },
    { name: `p99 event-to-commit at ${s.latency.targetRate} events/s`, target: '<= 50 ms', measured: `${s.latency.latencyMs.p99.toFixed(1)} ms`, met: s.latency.latencyMs.p99 <= 50 },
    { name: 'worker peak RSS', target: '<= 256 MB', measured: `${rssMb.toFixed(0)} MB`, met: rssMb <= 256 },
  ];
}
