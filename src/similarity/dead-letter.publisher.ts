import { Inject, Injectable } from '@nestjs/common';
import { IHeaders, Message } from 'kafkajs';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { DeadLetterHeaders } from '../kafka/dead-letter-headers';
import { KafkaConnection } from '../kafka/kafka-connection';
import { KafkaRecord } from '../kafka/kafka-record';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { MAX_KEY_BYTES } from './dto/embedding-event';
import { Rejection } from './rejections';

/**
 * Values above this are cut in the dead letter, so a huge poison record cannot make the
 * dead-letter topic refuse it (and stall the partition); the full value stays on the source topic
 * at the partition and offset the headers name.
 */
export const MAX_DEAD_LETTER_VALUE_BYTES = 512 * 1024;

/** Publishes rejected records to the dead-letter topic with their original key, value and headers. */
@Injectable()
export class DeadLetterPublisher {
  constructor(
    private readonly kafka: KafkaConnection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(DeadLetterPublisher.name);
  }

  /** Publishes and waits for the broker's acknowledgement, so offsets are committed only after. */
  async publish(rejections: { record: KafkaRecord; rejection: Rejection }[]): Promise<void> {
    if (rejections.length === 0) return;
    const failedAt = new Date().toISOString();
    await this.kafka.producer.send({
      topic: this.config.kafka.deadLetterTopic,
      acks: -1,
      messages: rejections.map(({ record, rejection }) => deadLetterMessage(record, rejection, failedAt)),
    });
    for (const { record, rejection } of rejections) {
      this.metrics.eventsDeadLettered.inc({ reason: rejection.category });
      this.logger.warn({ partition: record.partition, offset: record.offset, ...rejection, deadLetterTopic: this.config.kafka.deadLetterTopic }, 'event dead-lettered');
    }
  }
}

/**
 * The dead letter of a record: its (possibly cut) key and value and its headers, plus why and
 * where from. A cut part keeps its original length in a header.
 */
export function deadLetterMessage(record: KafkaRecord, rejection: Rejection, failedAt: string): Message {
  const oversized = record.value !== null && record.value.length > MAX_DEAD_LETTER_VALUE_BYTES;
  const longKey = record.key !== null && record.key.length > MAX_KEY_BYTES;
  return {
    key: longKey ? record.key!.subarray(0, MAX_KEY_BYTES) : record.key,
    value: oversized ? record.value!.subarray(0, MAX_DEAD_LETTER_VALUE_BYTES) : record.value,
    headers: {
      ...record.headers,
      ...(oversized ? { [DeadLetterHeaders.originalBytes]: String(record.value!.length) } : {}),
      ...(longKey ? { [DeadLetterHeaders.originalKeyBytes]: String(record.key!.length) } : {}),
      [DeadLetterHeaders.reason]: rejection.reason,
      [DeadLetterHeaders.category]: rejection.category,
      [DeadLetterHeaders.sourceTopic]: record.topic,
      [DeadLetterHeaders.sourcePartition]: String(record.partition),
      [DeadLetterHeaders.sourceOffset]: record.offset,
      [DeadLetterHeaders.failedAt]: failedAt,
    } as IHeaders,
  };
}
