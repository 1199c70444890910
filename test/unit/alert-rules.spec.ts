import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ConsumerLagMonitor } from '../../src/kafka/consumer-lag.monitor';
import { ConsumerMetrics } from '../../src/kafka/consumer-metrics';
import { ConsumerStatus } from '../../src/kafka/consumer-status';
import { WorkerMetrics } from '../../src/metrics/worker-metrics';

const rules = readFileSync(join(__dirname, '..', '..', 'k8s', 'prometheus-rules.yaml'), 'utf8');

/** Every series name /metrics serves, histograms with their _bucket, _sum and _count. */
async function servedSeries(): Promise<Set<string>> {
  const metrics = new WorkerMetrics({ driver: {} } as unknown as DataSource);
  const lagMonitor = { latest: () => null, lastFailure: () => null } as unknown as ConsumerLagMonitor;
  new ConsumerMetrics(metrics, lagMonitor, new ConsumerStatus()).onModuleInit();
  const served = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    served.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) served.add(metric.name + suffix);
  }
  return served;
}

describe('the example alerts (k8s/prometheus-rules.yaml)', () => {
  it('query only series the worker serves', async () => {
    const served = await servedSeries();
    const queried = [...rules.matchAll(/^\s*expr:\s*(.+)$/gm)].flatMap((m) => m[1].match(/\bsimilarity_[a-z_]+/g) ?? []);
    expect(queried.length).toBeGreaterThan(0);
    expect(queried.filter((name) => !served.has(name))).toEqual([]);
  });

  it('page after a couple of minutes when the database refuses the graph writes, naming the SQLSTATE', () => {
    const rule = /- alert: SimilarityWorkerGraphWritesBlocked\n((?:\s{10,}.*\n)+)/.exec(rules)?.[1] ?? '';
    expect(rule).toMatch(/expr: max by \(pod, sqlstate\) \(similarity_graph_writes_blocked\) == 1/);
    expect(rule).toMatch(/for: 2m/);
    expect(rule).toMatch(/summary: .*\{\{ \$labels\.sqlstate \}\}/);
  });
});
