import { Logger } from '@nestjs/common';
import { KafkaContext, KafkaOptions, ServerKafka } from '@nestjs/microservices';
import { Consumer, EachBatchPayload } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { ChunkSizes } from './chunk-sizing';
import { coPartitionedAssigner } from './co-partitioned-assigner';
import { repairTopicMismatch } from './co-partitioning';
import { ConsumerStatus } from './consumer-status';
import { KafkaConnection } from './kafka-connection';
import { KafkaRecord, KafkaRecordBatch } from './kafka-record';
import { PartitionAssignment } from './partition-assignment';

export interface BatchingKafkaServerOptions {
  kafka: KafkaOptions['options'];
  /** Kafka topic -> the @EventPattern that handles it (topic names come from config at runtime). */
  routes: Record<string, string>;
  /** Largest number of records handed to a handler at once. */
  maxBatchSize: number;
  /**
   * Chunks are sized so that one handler call takes about half of this. A chunk is applied as one
   * batch, in its own graph transaction.
   */
  timeBudgetMs: number;
  /** How often the group is told this member is alive while a chunk is in flight. */
  heartbeatIntervalMs: number;
  /** On close, the longest wait for the batch in flight before leaving the group anyway. */
  shutdownTimeoutMs: number;
  /**
   * Topic-partitions handled at once, each by its own handler call: batches of different
   * partitions run in parallel (partition p's events and p's repairs too: the domain serialises
   * those two itself).
   */
  partitionsConsumedConcurrently: number;
  /**
   * The event topic and its co-partitioned repair topic, both required; missing ones are created
   * (`create`: the input with `partitions`, the repairs with the input's count) or waited for.
   * `alsoCreate` (the dead-letter topic) is created when missing but never waited for.
   */
  topics: { input: string; repairs: string; create: boolean; partitions: number; alsoCreate: string[] };
  status: ConsumerStatus;
  /** Told the input partitions of each join; every batch waits for it to settle first. */
  assignment: PartitionAssignment;
  /** The process's one client: the consumer is made from it, its producer and admin are used. */
  connection: KafkaConnection;
}

const TOPIC_CHECK_INTERVAL_MS = 5000;

/**
 * The Nest Kafka server runs kafkajs `eachMessage` and commits whatever a handler does; this one
 * runs `eachBatch` instead, hands a handler a chunk of one partition's records, and commits the
 * chunk's offsets only after the handler's promise resolves (that is, after its database commit).
 * A handler that throws leaves the offsets where they were, so kafkajs fetches the chunk again.
 *
 * Membership never depends on how long a chunk takes: the group is heartbeated while a chunk is
 * in flight (a lock wait or a slow database costs latency, not the partition), and chunks are
 * sized by time. A consumer that kafkajs gives up on is reported to ConsumerStatus as failed.
 */
export class BatchingKafkaServer extends ServerKafka {
  private readonly batchLogger = new Logger(BatchingKafkaServer.name);
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private readonly chunkSizes: ChunkSizes;
  /** Partitions of the input topic this member was last given: sent to the group leader at each join. */
  private ownedPartitions: number[] = [];
  private inputPartitionCount = 0;

  constructor(private readonly batching: BatchingKafkaServerOptions) {
    super({ ...batching.kafka, postfixId: '' });
    this.chunkSizes = new ChunkSizes(batching.timeBudgetMs, batching.maxBatchSize);
  }

  override createClient<T = never>(): T {
    return this.batching.connection.client as T;
  }

  /** As ServerKafka's, but with the shared, already connected producer instead of a new one. */
  override async start(callback: () => void): Promise<void> {
    this.consumer = this.client!.consumer({
      ...this.batching.kafka?.consumer,
      groupId: this.groupId,
      partitionAssigners: [coPartitionedAssigner(() => this.ownedPartitions)],
    } as never);
    this.producer = this.batching.connection.producer as never;
    this.registerConsumerEventListeners();
    await this.consumer.connect();
    await this.bindEvents(this.consumer as unknown as Consumer);
    callback();
  }

  protected override registerConsumerEventListeners(): void {
    super.registerConsumerEventListeners();
    const consumer = this.consumer!;
    const { status, assignment, topics } = this.batching;
    // kafkajs emits this before it fetches for the new assignment, so `assigned` runs before any batch of it.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const inputPartitions = [...(payload.memberAssignment[topics.input] ?? [])].sort((x, y) => x - y);
      this.batchLogger.log(`joined group ${payload.groupId} as ${payload.memberId}; partitions ${JSON.stringify(payload.memberAssignment)}`);
      this.ownedPartitions = inputPartitions;
      status.joined(inputPartitions);
      assignment.assigned(payload.memberId, inputPartitions, this.inputPartitionCount);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.stopping) return;
      const reason = `${payload.error.name}: ${payload.error.message}`;
      if (payload.restart) {
        this.batchLogger.warn(`the consumer crashed (${reason}); kafkajs restarts it`);
        status.restarting(reason);
      } else {
        this.batchLogger.error(`the consumer crashed and will not restart: ${reason}`);
        status.failed(reason);
      }
    });
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    const refusal = await this.ensureTopics();
    if (this.stopping) return;
    if (refusal) {
      // Not retried: a topic's partition count does not change by waiting, and consuming anyway
      // would hand partition p's repairs to a worker that does not own partition p.
      this.batchLogger.error(`cannot consume: ${refusal}`);
      this.batching.status.failed(refusal);
      return;
    }
    await consumer.subscribe({ topics: Object.keys(this.batching.routes), fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.batching.partitionsConsumedConcurrently,
      eachBatch: async (payload) => {
        const work = this.handleBatch(consumer, payload);
        this.inFlight.add(work);
        try {
          await work;
        } finally {
          this.inFlight.delete(work);
        }
      },
    });
  }

  /**
   * Stops taking new chunks, lets the chunk in flight finish and commit (up to the shutdown
   * deadline; an unfinished one is redelivered to the next owner), then leaves the group.
   */
  override async close(): Promise<void> {
    this.stopping = true;
    this.batching.status.stopping();
    const started = Date.now();
    if (this.inFlight.size > 0) {
      this.batchLogger.log(`waiting up to ${this.batching.shutdownTimeoutMs} ms for ${this.inFlight.size} batch(es) in flight`);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), this.batching.shutdownTimeoutMs)));
      const settled = Promise.allSettled([...this.inFlight]).then((results) => (results.some((r) => r.status === 'rejected') ? ('failed' as const) : ('finished' as const)));
      const finished = await Promise.race([settled, deadline]);
      clearTimeout(timer);
      this.batchLogger.log(`batch in flight ${finished === 'deadline' ? 'abandoned at the deadline (it will be redelivered)' : finished} after ${Date.now() - started} ms`);
    }
    // The producer is the connection's: it is disconnected at application shutdown, after this.
    await this.consumer?.disconnect();
    this.consumer = null;
    this.producer = null;
    this.client = null;
    this.batchLogger.log(`left the consumer group in ${Date.now() - started} ms`);
  }

  /**
   * Subscribing to a missing topic makes kafkajs fail with UNKNOWN_TOPIC_OR_PARTITION: create the
   * topics when configured to, otherwise say what is missing and wait for it (not ready meanwhile).
   * Resolves with why the topics cannot be consumed (the repair topic's partition count differs
   * from the input's), or null once both exist and match.
   */
  private async ensureTopics(): Promise<string | null> {
    const { input, repairs, create, partitions, alsoCreate } = this.batching.topics;
    const admin = await this.batching.connection.admin();
    const partitionCounts = async (topics: string[]) =>
      new Map((await admin.fetchTopicMetadata({ topics })).topics.map((t) => [t.name, t.partitions.length]));
    for (let attempt = 1; !this.stopping; attempt++) {
      const existing = new Set(await admin.listTopics());
      const missing = [input, repairs].filter((topic) => !existing.has(topic));
      const optional = alsoCreate.filter((topic) => !existing.has(topic));
      if (create && missing.length + optional.length > 0) {
        // The repair topic must match the input topic as it is, whatever TOPIC_PARTITIONS says now.
        const inputCount = existing.has(input) ? (await partitionCounts([input])).get(input)! : partitions;
        const toCreate = [...missing, ...optional].map((topic) => ({ topic, numPartitions: topic === repairs ? inputCount : partitions }));
        this.batchLogger.log(`creating topics ${toCreate.map((t) => `${t.topic} (${t.numPartitions} partitions)`).join(', ')} (KAFKA_CREATE_TOPICS=true)`);
        await admin.createTopics({ waitForLeaders: true, topics: toCreate });
        continue;
      }
      if (missing.length === 0) {
        if (optional.length > 0) this.batchLogger.warn(`dead-letter topic ${optional.join(', ')} does not exist yet; the broker must create it on first use, or create it yourself`);
        const counts = await partitionCounts([input, repairs]);
        this.inputPartitionCount = counts.get(input)!;
        return repairTopicMismatch({ topic: input, partitionCount: this.inputPartitionCount }, { topic: repairs, partitionCount: counts.get(repairs)! });
      }
      const absent = missing.map((topic) => `topic ${topic} does not exist`).join(' and ');
      const detail = `${absent} on ${String(this.brokers)}: create ${missing.length > 1 ? 'them' : 'it'}${missing.includes(repairs) ? ` (${repairs} with the partition count of ${input})` : ''}, or set KAFKA_CREATE_TOPICS=true; waiting`;
      this.batching.status.waitingForTopic(detail);
      if (attempt === 1 || attempt % 12 === 0) this.batchLogger.warn(`${detail} (check ${attempt}, every ${TOPIC_CHECK_INTERVAL_MS / 1000} s)`);
      await new Promise((resolve) => setTimeout(resolve, TOPIC_CHECK_INTERVAL_MS));
    }
    return null;
  }

  private async handleBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, resolveOffset, isRunning, isStale } = payload;
    const pattern = this.batching.routes[batch.topic];
    const handler = pattern ? this.getHandlerByPattern(pattern) : null;
    if (!handler) throw new Error(`no @EventPattern handler for topic ${batch.topic}`);
    const isActive = () => !this.stopping && isRunning() && !isStale();

    for (let start = 0; start < batch.messages.length; ) {
      if (!isActive()) return;
      const size = this.chunkSizes.of(batch.topic);
      const messages = batch.messages.slice(start, start + size);
      const records: KafkaRecord[] = messages.map((message) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: (message.headers ?? {}) as KafkaRecord['headers'],
        timestamp: message.timestamp,
      }));
      // A handler heartbeats while it retries against an unavailable database: it is alive, waiting.
      const control = {
        heartbeat: async () => {
          this.batching.status.progressed();
          await heartbeat();
        },
        isActive,
      };
      const chunk: KafkaRecordBatch = { topic: batch.topic, partition: batch.partition, records, control };
      const context = new KafkaContext([messages[0] as never, batch.partition, batch.topic, consumer, heartbeat, this.producer!]);
      const began = performance.now();
      await this.whileHeartbeating(heartbeat, async () => {
        // The partition must have been taken (the domain's listener) before its batch is applied.
        // A failed take-over rejects here: the chunk is not committed and kafkajs redelivers it.
        await this.batching.assignment.settled();
        await lastValueFrom(this.transformToObservable(await handler(chunk, context)), { defaultValue: undefined });
        const lastOffset = records[records.length - 1].offset;
        resolveOffset(lastOffset);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
      });
      this.batching.status.progressed();
      this.chunkSizes.observe(batch.topic, size, messages.length, performance.now() - began);
      start += messages.length;
      await heartbeat();
    }
  }

  /** Runs `work` while telling the group, every heartbeat interval, that this member is alive. */
  private async whileHeartbeating<T>(heartbeat: () => Promise<void>, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      heartbeat().catch((error: Error) => this.batchLogger.warn(`heartbeat during a batch failed: ${error.message}`));
    }, this.batching.heartbeatIntervalMs);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }
}
