import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { repairTopicName } from '../kafka/co-partitioning';
import { KafkaConnection } from '../kafka/kafka-connection';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { encodeRepairRecords } from './dto/repair-record';
import { RepairMessage } from './graph/repair-protocol';

/** Well under a broker's default `message.max.bytes` (1 MB), whatever the batch size. */
export const REPAIR_RECORD_MAX_BYTES = 256 * 1024;

/**
 * Produces a batch's repair messages to the repair topic: records of at most REPAIR_RECORD_MAX_BYTES per destination partition,
 * its partition set explicitly (the owner of partition p of the event topic consumes partition p
 * of the repair topic), value the partition's messages as JSON. Resolves once every replica has
 * them, so the event offsets are committed only after the announcement is safe.
 */
@Injectable()
export class RepairPublisher {
  constructor(
    private readonly kafka: KafkaConnection,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
  ) {}

  async publish(byPartition: ReadonlyMap<number, RepairMessage[]>): Promise<void> {
    if (byPartition.size === 0) return;
    await this.kafka.producer.send({
      topic: repairTopicName(this.config.kafka.topic),
      acks: -1,
      messages: [...byPartition].flatMap(([partition, messages]) =>
        encodeRepairRecords(messages, REPAIR_RECORD_MAX_BYTES).map((value) => ({ partition, key: null, value, headers: { 'content-type': 'application/json' } })),
      ),
    });
    this.metrics.repairsProduced.inc([...byPartition.values()].reduce((total, messages) => total + messages.length, 0));
  }
}
