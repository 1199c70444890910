import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { ConsumerLagMonitor } from './consumer-lag.monitor';
import { ConsumerPhase, ConsumerStatus } from './consumer-status';

const PHASES: ConsumerPhase[] = ['starting', 'waiting-for-topic', 'running', 'restarting', 'stopping', 'failed'];

/** The consumer's gauges (lag as last read, phase, progress), added to the service's registry. */
@Injectable()
export class ConsumerMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: WorkerMetrics,
    private readonly lagMonitor: ConsumerLagMonitor,
    private readonly consumerStatus: ConsumerStatus,
  ) {}

  onModuleInit(): void {
    const { lagMonitor, consumerStatus } = this;
    const registry = this.metrics.registry;
    new Gauge({
      name: 'similarity_consumer_lag',
      help: "Records past the group's committed offset, per partition, events and repairs together, as last read (LAG_POLL_INTERVAL_MS)",
      labelNames: ['partition'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const reading = lagMonitor.latest();
        if (reading) for (const p of reading.partitions) this.set({ partition: String(p.partition) }, p.lag);
      },
    });
    new Gauge({
      name: 'similarity_consumer_lag_read_age_seconds',
      help: 'Age of the last successful lag reading',
      registers: [registry],
      collect() {
        const reading = lagMonitor.latest();
        if (reading) this.set((Date.now() - reading.readAt) / 1000);
      },
    });
    new Gauge({
      name: 'similarity_consumer_phase',
      help: "1 for this replica's consumer phase (running, failed, waiting-for-topic, ...), 0 for the others",
      labelNames: ['phase'] as const,
      registers: [registry],
      collect() {
        const { phase } = consumerStatus.snapshot();
        for (const p of PHASES) this.set({ phase: p }, p === phase ? 1 : 0);
      },
    });
    new Gauge({
      name: 'similarity_consumer_last_progress_seconds',
      help: 'Seconds since the consumer last committed a chunk (or retried against an unavailable database)',
      registers: [registry],
      collect() {
        this.set((Date.now() - consumerStatus.snapshot().lastProgressAt) / 1000);
      },
    });
  }
}
