import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DeadLetterPublisher } from '../kafka/dead-letter.publisher';
import { STUDENT_EMBEDDING_EVENTS } from '../kafka/event-patterns';
import { KafkaRecordBatch } from '../kafka/kafka-record';
import { EmbeddingEvent, parseEmbeddingRecord } from './dto/embedding-event';
import { SimilarityService } from './similarity.service';

/** Translates a batch of Kafka records into events for the service; bad records become dead letters. */
@Controller()
export class SimilarityController {
  constructor(
    private readonly similarity: SimilarityService,
    private readonly deadLetters: DeadLetterPublisher,
  ) {}

  @EventPattern(STUDENT_EMBEDDING_EVENTS)
  async onEmbeddingEvents(@Payload() batch: KafkaRecordBatch): Promise<void> {
    const events: EmbeddingEvent[] = [];
    const rejections = [];
    for (const record of batch.records) {
      const parsed = parseEmbeddingRecord(record);
      if (parsed.ok) events.push(parsed.event);
      else rejections.push({ record, reason: parsed.reason });
    }
    await this.deadLetters.publish(rejections);
    if (events.length > 0) await this.similarity.applyEvents(events);
  }
}
