import { Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { loadConfig } from '../../src/config/app-config';
import { AppConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { PartitionAssignment } from '../../src/kafka/partition-assignment';
import { partitionOfKey } from '../../src/kafka/partition-of-key';
import { LoggingModule } from '../../src/logging/logging.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { EmbeddingEvent } from '../../src/similarity/dto/embedding-event';
import { EmbeddingRepository } from '../../src/similarity/embedding.repository';
import { RepairMessage } from '../../src/similarity/graph/repair-protocol';
import { GraphStoreModule } from '../../src/similarity/graph-store.module';
import { OwnedHolderIndexes } from '../../src/similarity/owned-holder-indexes';
import { PartitionOwnership } from '../../src/similarity/partition-ownership';
import { RepairPublisher } from '../../src/similarity/repair.publisher';
import { SimilarityService } from '../../src/similarity/similarity.service';
import { TestEnvironment } from './harness';

/** Stands in for the repair topic: what the service produced, by partition, in order, until a test takes it. */
export class CapturedRepairs {
  private readonly pending = new Map<number, RepairMessage[]>();
  produced = 0;

  async publish(byPartition: ReadonlyMap<number, RepairMessage[]>): Promise<void> {
    for (const [partition, messages] of byPartition) {
      this.pending.set(partition, [...(this.pending.get(partition) ?? []), ...messages]);
      this.produced += messages.length;
    }
  }

  /** The messages produced to the partition and not yet taken, oldest first. */
  take(partition: number): RepairMessage[] {
    const messages = this.pending.get(partition) ?? [];
    this.pending.delete(partition);
    return messages;
  }

  partitionsPending(): number[] {
    return [...this.pending.keys()].sort((x, y) => x - y);
  }
}

export interface GraphServiceUnderTest {
  module: TestingModule;
  service: SimilarityService;
  repairs: CapturedRepairs;
  partitionCount: number;
  /** The partition whose owner writes the student's list. */
  partitionOf(studentId: string): number;
  /** Applies the events on their students' partitions, then every repair they cause (as their owners would) until none is left. */
  applyAndSettle(events: EmbeddingEvent[]): Promise<void>;
  /** Applies every repair produced and not yet applied, partition by partition, until none is left. */
  settleRepairs(): Promise<void>;
}

/**
 * The graph use case alone, in this process, on the environment's database: no Kafka, no HTTP.
 * This process owns all `partitionCount` partitions (taken as a group join would); repairs go
 * to CapturedRepairs instead of the repair topic. `embeddings` replaces the embedding repository
 * (a subclass that injects a fault).
 */
export async function graphServiceModule(env: TestEnvironment, embeddings?: Type<EmbeddingRepository>, partitionCount = 1): Promise<GraphServiceUnderTest> {
  const repairs = new CapturedRepairs();
  const builder = Test.createTestingModule({
    imports: [AppConfigModule.forRoot(loadConfig(env.env)), DatabaseModule, GraphStoreModule, MetricsModule, LoggingModule],
    providers: [SimilarityService, PartitionOwnership, OwnedHolderIndexes, PartitionAssignment, RepairPublisher],
  });
  builder.overrideProvider(RepairPublisher).useValue(repairs);
  if (embeddings) builder.overrideProvider(EmbeddingRepository).useClass(embeddings);
  const module = await builder.compile();
  await module.init();
  const assignment = module.get(PartitionAssignment);
  assignment.assigned('graph-service-under-test', Array.from({ length: partitionCount }, (_, p) => p), partitionCount);
  await assignment.settled();
  const service = module.get(SimilarityService);
  const partitionOf = (studentId: string) => partitionOfKey(studentId, partitionCount);
  const settleRepairs = async () => {
    for (let partitions = repairs.partitionsPending(); partitions.length > 0; partitions = repairs.partitionsPending()) {
      for (const partition of partitions) await service.applyRepairs(partition, repairs.take(partition));
    }
  };
  return {
    module,
    service,
    repairs,
    partitionCount,
    partitionOf,
    settleRepairs,
    applyAndSettle: async (events) => {
      for (let partition = 0; partition < partitionCount; partition++) {
        const ofPartition = events.filter((e) => partitionOf(e.studentId) === partition);
        if (ofPartition.length > 0) await service.applyEvents(partition, ofPartition);
      }
      await settleRepairs();
    },
  };
}
