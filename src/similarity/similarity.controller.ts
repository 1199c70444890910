import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { STUDENT_EMBEDDING_EVENTS } from '../kafka/event-patterns';
import { KafkaRecordBatch } from '../kafka/kafka-record';
import { EmbeddingIntake } from './embedding-intake';

/** Hands each chunk of the embedding topic to the intake; the batching server commits after it. */
@Controller()
export class SimilarityController {
  constructor(private readonly intake: EmbeddingIntake) {}

  @EventPattern(STUDENT_EMBEDDING_EVENTS)
  onEmbeddingEvents(@Payload() batch: KafkaRecordBatch): Promise<void> {
    return this.intake.accept(batch.partition, batch.records, batch.control);
  }
}
