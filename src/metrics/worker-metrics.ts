import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';


/**
 * The service's Prometheus metrics, in one registry served at /metrics. Modules with state of
 * their own add gauges to this registry (kafka/consumer-metrics.ts); this one imports none of them.
 */
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
  readonly indexWalksLost = new Counter({
    name: 'similarity_index_walks_lost_total',
    help: 'Index searches (moved students, refills) that never reached the student itself, by what found the pool instead: a wider walk or an exact search',
    labelNames: ['found_by'] as const,
    registers: [this.registry],
  });
  readonly refills = new Counter({ name: 'similarity_pool_refills_total', help: 'Pools that fell below K and needed a fresh search', registers: [this.registry] });
  readonly graphLockWait = new Histogram({ name: 'similarity_graph_lock_wait_seconds', help: 'Time a graph transaction waited for the graph write lock (held by another worker or the rebuild)', buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly longestBatch = new Gauge({ name: 'similarity_batch_duration_max_seconds', help: "The longest batch (its search, its wait for the worker's turn and its graph transaction) since the process started", registers: [this.registry] });
  readonly graphTurnsWaiting = new Gauge({ name: 'similarity_graph_turns_waiting', help: "Batches of this worker waiting, outside any transaction, for the worker's turn to write the graph", registers: [this.registry] });
  readonly graphTurnWait = new Histogram({ name: 'similarity_graph_turn_wait_seconds', help: "Time a batch waited for the worker's turn to write the graph (its other partitions' transactions)", buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly graphTransaction = new Histogram({ name: 'similarity_graph_transaction_seconds', help: 'Time one graph transaction was open, its wait for the graph lock (other workers) included', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly longestGraphTransaction = new Gauge({ name: 'similarity_graph_transaction_max_seconds', help: 'The longest graph transaction since the process started', registers: [this.registry] });
  readonly graphWritesBlocked = new Gauge({
    name: 'similarity_graph_writes_blocked',
    help: 'Writes to the graph are refused for a reason no retry repairs (missing table or schema, revoked grant, bad credentials): 1 with the SQLSTATE while so, 0 otherwise',
    labelNames: ['sqlstate'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({ name: 'similarity_batch_retries_total', help: 'Batch retries, by failure kind', labelNames: ['kind'] as const, registers: [this.registry] });

  constructor(@InjectDataSource() dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry, prefix: 'similarity_worker_' });
    // A labelled gauge is served only once set: 0 from the start, so the series exists to alert on.
    this.graphWritesBlocked.set(0);
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
