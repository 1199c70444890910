import { Inject, Injectable } from '@nestjs/common';
import { IHeaders } from 'kafkajs';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { KafkaConnection } from '../kafka/kafka-connection';
import { KafkaRecord } from '../kafka/kafka-record';
import { PartitionAssignment } from '../kafka/partition-assignment';
import { partitionOfKey } from '../kafka/partition-of-key';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { EmbeddingEvent } from './dto/embedding-event';

/** The header a forwarded record carries: where it arrived first (topic/partition/offset). */
export const FORWARDED_FROM_HEADER = 'x-forwarded-from';

/**
 * Events on a partition other than their student's (a record without a key, or a producer with
 * another partitioner). Only the owner of the student's partition may write its list and pools,
 * so such an event is produced again, keyed by the student id, to that partition of the same
 * topic (awaited, before the offsets are committed) and not applied here: nothing is lost, and
 * each list keeps one writer.
 */
@Injectable()
export class MisroutedEvents {
  constructor(
    private readonly kafka: KafkaConnection,
    private readonly assignment: PartitionAssignment,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(MisroutedEvents.name);
  }

  /** The events that belong on `partition`; the others are forwarded to their own partition. */
  async keepOwn(partition: number, events: EmbeddingEvent[], recordOf: (event: EmbeddingEvent) => KafkaRecord): Promise<EmbeddingEvent[]> {
    const partitionCount = this.assignment.latest()?.partitionCount;
    if (partitionCount === undefined) throw new Error('no partition assignment yet: the owner of an event cannot be told');
    const { own, elsewhere } = splitByOwner(events, partition, partitionCount);
    if (elsewhere.length === 0) return own;
    await this.kafka.producer.send({
      topic: this.config.kafka.topic,
      acks: -1,
      messages: elsewhere.map(({ event, partition: owner }) => {
        const record = recordOf(event);
        const headers = { ...record.headers, [FORWARDED_FROM_HEADER]: `${record.topic}/${record.partition}/${record.offset}` } as IHeaders;
        return { partition: owner, key: event.studentId, value: record.value, headers };
      }),
    });
    this.metrics.eventsForwarded.inc(elsewhere.length);
    this.logger.warn({ partition, forwarded: elsewhere.length }, "events forwarded to their student's partition: produce them keyed by student id with the default partitioner");
    return own;
  }
}

/** Events of `partition`'s students, and the others with the partition their student id maps to. */
export function splitByOwner(events: EmbeddingEvent[], partition: number, partitionCount: number): { own: EmbeddingEvent[]; elsewhere: { event: EmbeddingEvent; partition: number }[] } {
  const own: EmbeddingEvent[] = [];
  const elsewhere: { event: EmbeddingEvent; partition: number }[] = [];
  for (const event of events) {
    const owner = partitionOfKey(event.studentId, partitionCount);
    if (owner === partition) own.push(event);
    else elsewhere.push({ event, partition: owner });
  }
  return { own, elsewhere };
}
