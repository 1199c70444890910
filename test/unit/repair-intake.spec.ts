import { encodeRepairRecords } from '../../src/similarity/dto/repair-record';
import { PinoLogger } from 'nestjs-pino';
import { Counter, Registry } from 'prom-client';
import { KafkaRecord } from '../../src/kafka/kafka-record';
import { WorkerMetrics } from '../../src/metrics/worker-metrics';
import { repairsForRemoval, RepairMessage } from '../../src/similarity/graph/repair-protocol';
import { RepairIntake } from '../../src/similarity/repair-intake';
import { ResilientEventApplier } from '../../src/similarity/resilient-event-applier';

const record = (offset: number, value: string): KafkaRecord => ({ topic: 't.repairs', partition: 1, offset: String(offset), key: null, value: Buffer.from(value), headers: {}, timestamp: '0' });
const control = { heartbeat: async () => undefined, isActive: () => true };

describe('RepairIntake', () => {
  it('judges every well-formed message of the batch and skips a malformed record with an error line and a count, never a dead letter', async () => {
    const judged: { partition: number; messages: RepairMessage[] }[] = [];
    const applier = { applyRepairs: async (partition: number, messages: RepairMessage[]) => void judged.push({ partition, messages }) } as unknown as ResilientEventApplier;
    const registry = new Registry();
    const metrics = { repairRecordsMalformed: new Counter({ name: 'malformed_in_test', help: 'x', registers: [registry] }) } as unknown as WorkerMetrics;
    const errors: string[] = [];
    const logger = { setContext: () => undefined, error: (_: object, message: string) => void errors.push(message) } as unknown as PinoLogger;
    const cause = { eventId: '6f1c2d7e-0f4b-4c1e-9d0a-3b8e6a1f2c44', eventTimestamp: 5 };
    const [, x] = repairsForRemoval({ subject: 'x', subjectVersion: 1, ...cause }, 2);
    const [, y] = repairsForRemoval({ subject: 'y', subjectVersion: 1, ...cause }, 2);

    await new RepairIntake(applier, metrics, logger).accept(1, [record(0, encodeRepairRecords([x], Infinity)[0]), record(1, 'garbage'), record(2, encodeRepairRecords([y], Infinity)[0])], control);

    expect(judged).toEqual([{ partition: 1, messages: [x, y] }]);
    expect(errors).toEqual(['malformed repair record skipped']);
    expect((await registry.getSingleMetric('malformed_in_test')!.get()).values[0].value).toBe(1);
  });
});
