import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { GRAPH_REPAIRS } from '../kafka/event-patterns';
import { KafkaRecordBatch } from '../kafka/kafka-record';
import { RepairIntake } from './repair-intake';

/** Hands each chunk of the repair topic to the repair intake; the batching server commits after it. */
@Controller()
export class RepairController {
  constructor(private readonly intake: RepairIntake) {}

  @EventPattern(GRAPH_REPAIRS)
  onRepairs(@Payload() batch: KafkaRecordBatch): Promise<void> {
    return this.intake.accept(batch.partition, batch.records, batch.control);
  }
}
