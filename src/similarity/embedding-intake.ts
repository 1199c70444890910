import { Injectable } from '@nestjs/common';
import { BatchControl, KafkaRecord } from '../kafka/kafka-record';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { DeadLetterPublisher } from './dead-letter.publisher';
import { EmbeddingEvent, parseEmbeddingRecord } from './dto/embedding-event';
import { MisroutedEvents } from './misrouted-events';
import { Rejection } from './rejections';
import { ResilientEventApplier } from './resilient-event-applier';

/**
 * The use case behind the event topic: records become events or rejections (the event
 * contract), events are applied under the error policy, and everything rejected on the way goes
 * to the dead-letter topic with its reason. Resolves only when every record is applied or
 * dead-lettered, so that the offsets may then be committed.
 */
@Injectable()
export class EmbeddingIntake {
  constructor(
    private readonly applier: ResilientEventApplier,
    private readonly deadLetters: DeadLetterPublisher,
    private readonly misrouted: MisroutedEvents,
    private readonly metrics: WorkerMetrics,
  ) {}

  async accept(partition: number, records: KafkaRecord[], control: BatchControl): Promise<void> {
    this.metrics.eventsConsumed.inc(records.length);
    const events: EmbeddingEvent[] = [];
    const rejections: { record: KafkaRecord; rejection: Rejection }[] = [];
    // Events travel through coalescing and batch splitting as the same objects: their records
    // are found again by identity, so the domain event need not carry a Kafka position.
    const recordOf = new Map<EmbeddingEvent, KafkaRecord>();
    for (const record of records) {
      const parsed = parseEmbeddingRecord(record);
      if (parsed.ok) {
        events.push(parsed.event);
        recordOf.set(parsed.event, record);
      } else rejections.push({ record, rejection: { category: parsed.category, reason: parsed.reason } });
    }
    const own = await this.misrouted.keepOwn(partition, events, (event) => recordOf.get(event)!);
    const applied = await this.applier.apply(partition, own, control, (event) => Number(recordOf.get(event)!.timestamp));
    for (const { event, rejection } of applied.rejected) rejections.push({ record: recordOf.get(event)!, rejection });
    await this.deadLetters.publish(rejections);

    const committedAt = Date.now();
    for (const event of own) this.metrics.eventToCommit.observe(Math.max(0, committedAt - Number(recordOf.get(event)!.timestamp)) / 1000);
  }
}
