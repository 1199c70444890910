import { Controller, DynamicModule, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { GRAPH_REPAIRS } from '../../src/kafka/event-patterns';
import { KafkaRecordBatch } from '../../src/kafka/kafka-record';
import { AssignmentListener, PartitionAssignment } from '../../src/kafka/partition-assignment';

/** What one worker's repair handler was handed, batch by batch. */
export class RepairRecorder {
  readonly batches: { partition: number; values: string[] }[] = [];

  get values(): string[] {
    return this.batches.flatMap((b) => b.values);
  }

  get partitions(): number[] {
    return [...new Set(this.batches.map((b) => b.partition))].sort((x, y) => x - y);
  }
}

const RECORDER = Symbol('RECORDER');
const ON_ASSIGNED = Symbol('ON_ASSIGNED');

/** Stands in for the domain's handler of the repair topic: records each batch and commits it. */
@Controller()
export class RepairRecorderController {
  constructor(@Inject(RECORDER) private readonly recorder: RepairRecorder) {}

  @EventPattern(GRAPH_REPAIRS)
  onRepairs(@Payload() batch: KafkaRecordBatch): void {
    this.recorder.batches.push({ partition: batch.partition, values: batch.records.map((r) => r.value!.toString()) });
  }
}

/** Registers the test's assignment listener before the consumer joins, as the domain's take-over would be. */
@Injectable()
export class AssignmentHook implements OnModuleInit {
  constructor(
    private readonly assignment: PartitionAssignment,
    @Inject(ON_ASSIGNED) private readonly listener: AssignmentListener | null,
  ) {}

  onModuleInit(): void {
    if (this.listener) this.assignment.onAssigned(this.listener);
  }
}

/**
 * Boot a worker with `imports: [RepairRecorderModule.forRoot(recorder)]` to see its repair
 * batches; `onAssigned` runs at each join in place of the domain's take-over.
 */
@Module({})
export class RepairRecorderModule {
  static forRoot(recorder: RepairRecorder, onAssigned: AssignmentListener | null = null): DynamicModule {
    return {
      module: RepairRecorderModule,
      controllers: [RepairRecorderController],
      providers: [{ provide: RECORDER, useValue: recorder }, { provide: ON_ASSIGNED, useValue: onAssigned }, AssignmentHook],
    };
  }
}
