import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DeadLetterPublisher } from '../kafka/dead-letter.publisher';
import { STUDENT_EMBEDDING_EVENTS } from '../kafka/event-patterns';
import { KafkaRecord, KafkaRecordBatch } from '../kafka/kafka-record';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { EmbeddingEvent, parseEmbeddingRecord, Rejection } from './dto/embedding-event';
import { ResilientEventApplier } from './resilient-event-applier';

/**
 * Translates a batch of Kafka records into events for the graph; records that are not valid
 * events, and events that cannot be applied, become dead letters with their reason. Returns only
 * when every record is either applied or dead-lettered, so the offsets can then be committed.
 */
@Controller()
export class SimilarityController {
  constructor(
    private readonly applier: ResilientEventApplier,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly metrics: WorkerMetrics,
  ) {}

  @EventPattern(STUDENT_EMBEDDING_EVENTS)
  async onEmbeddingEvents(@Payload() batch: KafkaRecordBatch): Promise<void> {
    this.metrics.eventsConsumed.inc(batch.records.length);
    const events: EmbeddingEvent[] = [];
    const rejections: { record: KafkaRecord; rejection: Rejection }[] = [];
    const recordAt = new Map<string, KafkaRecord>();
    for (const record of batch.records) {
      const parsed = parseEmbeddingRecord(record);
      if (parsed.ok) {
        events.push(parsed.event);
        recordAt.set(record.offset, record);
      } else rejections.push({ record, rejection: { category: parsed.category, reason: parsed.reason } });
    }
    const applied = await this.applier.apply(events, batch.control);
    for (const { event, rejection } of applied.rejected) rejections.push({ record: recordAt.get(event.offset)!, rejection });
    await this.deadLetters.publish(rejections);

    const committedAt = Date.now();
    for (const record of recordAt.values()) this.metrics.eventToCommit.observe(Math.max(0, committedAt - Number(record.timestamp)) / 1000);
  }
}
