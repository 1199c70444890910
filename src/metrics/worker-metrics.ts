import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { ConsumerLagMonitor } from '../kafka/consumer-lag.monitor';
import { ConsumerPhase, ConsumerStatus } from '../kafka/consumer-status';

const PHASES: ConsumerPhase[] = ['starting', 'waiting-for-topic', 'running', 'restarting', 'stopping', 'failed'];

/** The service's Prometheus metrics, in one registry served at /metrics. */
@Injectable()
export class WorkerMetrics {
  readonly registry = new Registry();

  readonly eventsConsumed = new Counter({ name: 'similarity_events_consumed_total', help: 'Records read from the embedding topic', registers: [this.registry] });
  readonly eventsApplied = new Counter({ name: 'similarity_events_applied_total', help: 'Valid events applied to the graph, by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly eventsDeadLettered = new Counter({ name: 'similarity_events_dead_lettered_total', help: 'Records sent to the dead-letter topic, by reason', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly batchDuration = new Histogram({ name: 'similarity_batch_duration_seconds', help: 'Time to apply one batch, database commit included', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly eventToCommit = new Histogram({ name: 'similarity_event_to_commit_seconds', help: 'From the record timestamp to the commit of its graph change', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'similarity_batch_size_events', help: 'Events per applied batch', buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000], registers: [this.registry] });
  readonly listsRepaired = new Counter({ name: 'similarity_lists_repaired_total', help: "Other students' public lists rewritten by reverse repair", registers: [this.registry] });
  readonly refills = new Counter({ name: 'similarity_pool_refills_total', help: 'Pools that fell below K and needed a fresh search', registers: [this.registry] });
  readonly retries = new Counter({ name: 'similarity_batch_retries_total', help: 'Batch retries, by failure kind', labelNames: ['kind'] as const, registers: [this.registry] });

  constructor(lagMonitor: ConsumerLagMonitor, consumerStatus: ConsumerStatus, @InjectDataSource() dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry, prefix: 'similarity_worker_' });
    new Gauge({
      name: 'similarity_consumer_lag',
      help: "Records on the topic past the group's committed offset, per partition, as last read (LAG_POLL_INTERVAL_MS)",
      labelNames: ['partition'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        const reading = lagMonitor.latest();
        if (reading) for (const p of reading.partitions) this.set({ partition: String(p.partition) }, p.lag);
      },
    });
    new Gauge({
      name: 'similarity_consumer_lag_read_age_seconds',
      help: 'Age of the last successful lag reading',
      registers: [this.registry],
      collect() {
        const reading = lagMonitor.latest();
        if (reading) this.set((Date.now() - reading.readAt) / 1000);
      },
    });
    new Gauge({
      name: 'similarity_consumer_phase',
      help: "1 for this replica's consumer phase (running, failed, waiting-for-topic, ...), 0 for the others",
      labelNames: ['phase'] as const,
      registers: [this.registry],
      collect() {
        const { phase } = consumerStatus.snapshot();
        for (const p of PHASES) this.set({ phase: p }, p === phase ? 1 : 0);
      },
    });
    new Gauge({
      name: 'similarity_consumer_last_progress_seconds',
      help: 'Seconds since the consumer last committed a chunk (or retried against an unavailable database)',
      registers: [this.registry],
      collect() {
        this.set((Date.now() - consumerStatus.snapshot().lastProgressAt) / 1000);
      },
    });
    new Gauge({
      name: 'similarity_db_pool_connections',
      help: 'PostgreSQL pool connections, by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const pool = (dataSource.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master;
        if (!pool) return;
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }
}
