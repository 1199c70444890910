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
  readonly eventsForwarded = new Counter({ name: 'similarity_events_forwarded_total', help: "Events that arrived on a partition other than their student's (no key, or another partitioner) and were produced again, keyed, to their student's partition", registers: [this.registry] });
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
  readonly longestBatch = new Gauge({ name: 'similarity_batch_duration_max_seconds', help: "The longest batch (its graph transaction and the production of its repairs) since the process started", registers: [this.registry] });
  readonly graphTransaction = new Histogram({ name: 'similarity_graph_transaction_seconds', help: "Time one graph transaction was open, its wait for its partition's owner row included", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly ownerLockWait = new Histogram({ name: 'similarity_owner_lock_wait_seconds', help: "Time a graph transaction waited for its partition's owner row (a take-over, a worker that lost the partition, a rebuild chunk): the only wait another writer can cause", buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly partitionTurnWait = new Histogram({ name: 'similarity_partition_turn_wait_seconds', help: "Time a batch waited for this worker's other batch of the same partition (its events and its repairs take turns) before opening its transaction", buckets: [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly fenced = new Counter({ name: 'similarity_fenced_transactions_total', help: 'Graph transactions rolled back because another worker took their partition since this one did', registers: [this.registry] });
  readonly repairsProduced = new Counter({ name: 'similarity_repairs_produced_total', help: 'Repair messages produced to the repair topic (one per changed student and partition)', registers: [this.registry] });
  readonly repairsApplied = new Counter({ name: 'similarity_repairs_applied_total', help: "Repair messages judged against this worker's pools", registers: [this.registry] });
  readonly repairRecordsMalformed = new Counter({ name: 'similarity_repair_records_malformed_total', help: 'Records of the repair topic that are not a list of repair messages for their partition: skipped and logged (internal, never dead-lettered)', registers: [this.registry] });
  readonly repairBatchDuration = new Histogram({ name: 'similarity_repair_batch_duration_seconds', help: 'Time to judge one batch of repair messages, database commit included', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly repairStepSeconds = new Counter({
    name: 'similarity_repair_step_seconds_total',
    help: 'Time repair batches spent in each step of their transaction (holdings, entering, load, vectors, judge, refill, write): where repair time goes',
    labelNames: ['step'] as const,
    registers: [this.registry],
  });
  readonly holderIndexReads = new Counter({ name: 'similarity_holder_index_reads_total', help: "Partition holder indexes read from the database (once per take of a partition, and after a rebuild or a failed transaction)", registers: [this.registry] });
  readonly holderIndexReadSeconds = new Counter({ name: 'similarity_holder_index_read_seconds_total', help: 'Time spent reading partition holder indexes from the database', registers: [this.registry] });
  readonly eventToSettled = new Histogram({ name: 'similarity_event_to_settled_seconds', help: "From an event's record timestamp to the commit of one partition's repairs it caused (observed by that partition's owner)", buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600], registers: [this.registry] });
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
