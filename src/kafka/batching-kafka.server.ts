import { Logger } from '@nestjs/common';
import { KafkaContext, KafkaOptions, ServerKafka } from '@nestjs/microservices';
import { Consumer, EachBatchPayload, Producer } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { KafkaRecord, KafkaRecordBatch } from './kafka-record';

export interface BatchingKafkaServerOptions {
  kafka: KafkaOptions['options'];
  /** Kafka topic -> the @EventPattern that handles it (topic names come from config at runtime). */
  routes: Record<string, string>;
  /** Largest number of records handed to a handler at once. */
  maxBatchSize: number;
  /** On close, the longest wait for the batch in flight before leaving the group anyway. */
  shutdownTimeoutMs: number;
  /**
   * Partitions handled at once. Graph transactions still run one at a time (advisory lock), but
   * fetching, parsing and offset commits of one partition overlap another's transaction.
   */
  partitionsConsumedConcurrently: number;
}

/**
 * The Nest Kafka server runs kafkajs `eachMessage` and commits whatever a handler does; this one
 * runs `eachBatch` instead, hands a handler a chunk of one partition's records, and commits the
 * chunk's offsets only after the handler's promise resolves (that is, after its database commit).
 * A handler that throws leaves the offsets where they were, so kafkajs fetches the chunk again.
 */
export class BatchingKafkaServer extends ServerKafka {
  private readonly batchLogger = new Logger(BatchingKafkaServer.name);
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly batching: BatchingKafkaServerOptions) {
    super({ ...batching.kafka, postfixId: '' });
  }

  /** The producer the server connected, for handlers that must publish (dead letters). */
  get connectedProducer(): Producer | null {
    return this.producer;
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
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
    await super.close();
    this.batchLogger.log(`left the consumer group in ${Date.now() - started} ms`);
  }

  private async handleBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, resolveOffset, isRunning, isStale } = payload;
    const pattern = this.batching.routes[batch.topic];
    const handler = pattern ? this.getHandlerByPattern(pattern) : null;
    if (!handler) throw new Error(`no @EventPattern handler for topic ${batch.topic}`);

    for (let start = 0; start < batch.messages.length; start += this.batching.maxBatchSize) {
      if (this.stopping || !isRunning() || isStale()) return;
      const messages = batch.messages.slice(start, start + this.batching.maxBatchSize);
      const records: KafkaRecord[] = messages.map((message) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: (message.headers ?? {}) as KafkaRecord['headers'],
        timestamp: message.timestamp,
      }));
      const control = { heartbeat, isActive: () => !this.stopping && isRunning() && !isStale() };
      const chunk: KafkaRecordBatch = { topic: batch.topic, partition: batch.partition, records, control };
      const context = new KafkaContext([messages[0] as never, batch.partition, batch.topic, consumer, heartbeat, this.producer!]);
      await lastValueFrom(this.transformToObservable(await handler(chunk, context)), { defaultValue: undefined });

      const lastOffset = records[records.length - 1].offset;
      resolveOffset(lastOffset);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
      await heartbeat();
    }
  }
}
