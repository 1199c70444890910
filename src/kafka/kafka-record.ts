/** One Kafka message as the batching server hands it to an @EventPattern handler. */
export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  timestamp: string;
}

/** The batch a handler receives: the records of one partition, in offset order. */
export interface KafkaRecordBatch {
  topic: string;
  partition: number;
  records: KafkaRecord[];
  control: BatchControl;
}

/** What a handler may do with the consumer while it works on a batch. */
export interface BatchControl {
  /** Tells the group this consumer is alive (call while waiting, e.g. between retries). */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the batch is stale: stop and let it be redelivered. */
  isActive(): boolean;
}
