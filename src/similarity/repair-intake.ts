import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { BatchControl, KafkaRecord } from '../kafka/kafka-record';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { parseRepairRecord } from './dto/repair-record';
import { RepairMessage } from './graph/repair-protocol';
import { ResilientEventApplier } from './resilient-event-applier';

/**
 * The use case behind the repair topic: records become repair messages, judged against this
 * partition's pools under the retry policy. Resolves only when they are, so that the offsets may
 * then be committed.
 *
 * A record that is not a list of repair messages for its partition was not written by this
 * service's RepairPublisher (or by an incompatible version of it). It is internal, so it goes to
 * no user's dead-letter topic: it is logged at error level with its position, counted
 * (similarity_repair_records_malformed_total) and skipped; the rest of the batch is judged.
 */
@Injectable()
export class RepairIntake {
  constructor(
    private readonly applier: ResilientEventApplier,
    private readonly metrics: WorkerMetrics,
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(RepairIntake.name);
  }

  async accept(partition: number, records: KafkaRecord[], control: BatchControl): Promise<void> {
    const messages: RepairMessage[] = [];
    for (const record of records) {
      const parsed = parseRepairRecord(record);
      if (parsed.ok) {
        messages.push(...parsed.messages);
        continue;
      }
      this.metrics.repairRecordsMalformed.inc();
      this.logger.error({ topic: record.topic, partition: record.partition, offset: record.offset, reason: parsed.reason }, 'malformed repair record skipped');
    }
    await this.applier.applyRepairs(partition, messages, control);
  }
}
