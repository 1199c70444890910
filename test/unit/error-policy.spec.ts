import { Test } from '@nestjs/testing';
import { PinoLogger } from 'nestjs-pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { AppConfig } from '../../src/config/app-config';
import { APP_CONFIG } from '../../src/config/config.module';
import { WorkerMetrics } from '../../src/metrics/worker-metrics';
import { EmbeddingEvent } from '../../src/similarity/dto/embedding-event';
import { FencedError } from '../../src/similarity/fenced-error';
import { GraphWriteStatus } from '../../src/similarity/graph-write-status';
import { ResilientEventApplier } from '../../src/similarity/resilient-event-applier';
import { SimilarityService } from '../../src/similarity/similarity.service';

/** A database error as node-postgres raises it: a SQLSTATE in `code`. */
const sqlError = (code: string, message: string) => Object.assign(new Error(message), { code });
const event = (studentId: string, offset: number): EmbeddingEvent => ({ studentId, eventId: `e-${offset}`, version: null, op: 'upsert' });
const events = (...ids: string[]) => ids.map((id, i) => event(id, i));

/**
 * The graph as far as the error policy can tell: applying a batch fails while `failures` says so
 * for any of its students, and the students of every batch that succeeded are remembered.
 */
class ScriptedSimilarityService {
  readonly applied: string[][] = [];
  readonly attempts: string[][] = [];
  constructor(private readonly failure: (studentIds: string[], attempt: number) => Error | null | Promise<Error | null>) {}

  async applyEvents(_partition: number, batch: EmbeddingEvent[]) {
    const ids = batch.map((e) => e.studentId);
    this.attempts.push(ids);
    const error = await this.failure(ids, this.attempts.filter((a) => a.join() === ids.join()).length);
    if (error) throw error;
    this.applied.push(ids);
    return { rejected: [] };
  }
}

/** What the applier logged at warn level and above (what people are told). */
class RecordingLogger {
  readonly lines: { level: 'error' | 'warn'; message: string }[] = [];
  setContext() {}
  error(_: object, message: string) {
    this.lines.push({ level: 'error', message });
  }
  warn(_: object, message: string) {
    this.lines.push({ level: 'warn', message });
  }
  info() {}
  debug() {}
}

/** The applier with the graph service replaced, and what it reports through: status, log, gauge. */
async function policyWith(service: ScriptedSimilarityService, retry = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 }) {
  const registry = new Registry();
  const logger = new RecordingLogger();
  const metrics = {
    retries: new Counter({ name: 'retries_in_test', help: 'retries', labelNames: ['kind'], registers: [registry] }),
    graphWritesBlocked: new Gauge({ name: 'blocked_in_test', help: 'blocked', labelNames: ['sqlstate'], registers: [registry] }),
  };
  const module = await Test.createTestingModule({
    providers: [
      ResilientEventApplier,
      GraphWriteStatus,
      { provide: SimilarityService, useValue: service },
      { provide: APP_CONFIG, useValue: { retry } as Partial<AppConfig> },
      { provide: WorkerMetrics, useValue: metrics },
      { provide: PinoLogger, useValue: logger },
    ],
  }).compile();
  return {
    applier: module.get(ResilientEventApplier),
    status: module.get(GraphWriteStatus),
    logger,
    blockedGauge: async () => (await metrics.graphWritesBlocked.get()).values.map(({ labels, value }) => ({ labels, value })),
  };
}

async function applierWith(service: ScriptedSimilarityService, retry?: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number }) {
  return (await policyWith(service, retry)).applier;
}

const control = () => {
  const beats = { count: 0 };
  return { beats, heartbeat: async () => void beats.count++, isActive: () => true };
};

describe('error policy (ResilientEventApplier with the graph service replaced)', () => {
  it('isolates a poison event by splitting the batch: only it is rejected, every other event is applied', async () => {
    const service = new ScriptedSimilarityService((ids) => (ids.includes('poison') ? sqlError('22P02', 'invalid input syntax') : null));
    const applier = await applierWith(service);
    const result = await applier.apply(0, events('a', 'b', 'poison', 'c', 'd'), control());
    expect(result.rejected.map((r) => [r.event.studentId, r.rejection.category])).toEqual([['poison', 'processing-error']]);
    expect(result.rejected[0].rejection.reason).toMatch(/failed: invalid input syntax/);
    expect(service.applied.flat().sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('retries a conflict and applies the batch when a retry succeeds', async () => {
    const service = new ScriptedSimilarityService((_, attempt) => (attempt < 3 ? sqlError('40P01', 'deadlock detected') : null));
    const ctl = control();
    const result = await (await applierWith(service)).apply(0, events('a', 'b'), ctl);
    expect(result.rejected).toEqual([]);
    expect(service.attempts).toHaveLength(3);
    expect(ctl.beats.count).toBe(2);
  });

  it('dead-letters an event whose conflicts outlast the retries, as retries-exhausted', async () => {
    const service = new ScriptedSimilarityService(() => sqlError('40001', 'could not serialize access'));
    const result = await (await applierWith(service, { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 })).apply(0, events('a'), control());
    expect(result.rejected.map((r) => r.rejection.category)).toEqual(['retries-exhausted']);
    expect(result.rejected[0].rejection.reason).toMatch(/retries exhausted: could not serialize access/);
    expect(service.applied).toEqual([]);
  });

  it('keeps retrying while the database is unavailable, heartbeating, and never dead-letters for it', async () => {
    const service = new ScriptedSimilarityService((_, attempt) => (attempt <= 8 ? Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) : null));
    const ctl = control();
    const result = await (await applierWith(service, { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 })).apply(0, events('a', 'b'), ctl);
    expect(result.rejected).toEqual([]);
    expect(service.attempts).toHaveLength(9);
    expect(ctl.beats.count).toBe(8);
    expect(service.applied).toEqual([['a', 'b']]);
  });

  it('abandons a fenced batch at once: no retry, no split, nothing dead-lettered, the error propagates so the offsets stay', async () => {
    const service = new ScriptedSimilarityService(() => new FencedError(0, 'partition 0 is at epoch 3 (other); this worker took it at epoch 2'));
    const ctl = control();
    await expect((await applierWith(service)).apply(0, events('a', 'b', 'c'), ctl)).rejects.toBeInstanceOf(FencedError);
    expect(service.attempts).toEqual([['a', 'b', 'c']]);
    expect(ctl.beats.count).toBe(0);
  });

  it('stops retrying once the consumer is no longer active, leaving the batch to be redelivered', async () => {
    const service = new ScriptedSimilarityService(() => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    let active = true;
    const ctl = { heartbeat: async () => void (active = false), isActive: () => active };
    await expect((await applierWith(service)).apply(0, events('a'), ctl)).rejects.toThrow(/ECONNREFUSED|stopping/);
    expect(service.applied).toEqual([]);
  });

  describe('writes the database refuses (a missing table, a revoked grant)', () => {
    const missingTable = () => sqlError('42P01', 'relation "student_similarity" does not exist');

    it('retries the batch until the schema is repaired, never dead-letters it, and reports the block meanwhile', async () => {
      let repaired = false;
      let policy!: Awaited<ReturnType<typeof policyWith>>;
      const seenWhileRefused: unknown[] = [];
      const service = new ScriptedSimilarityService((_, attempt) => {
        if (attempt === 6) repaired = true;
        if (repaired) return null;
        seenWhileRefused.push(policy.status.current());
        return missingTable();
      });
      policy = await policyWith(service, { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 });
      const ctl = control();

      const result = await policy.applier.apply(0, events('a', 'b'), ctl);

      expect(result.rejected).toEqual([]);
      expect(service.applied).toEqual([['a', 'b']]);
      expect(service.attempts).toHaveLength(6);
      expect(ctl.beats.count).toBe(5);
      // Reported from the second attempt on (the first failure is what starts the block).
      expect(seenWhileRefused.slice(1)).toEqual(
        Array(4).fill({ sqlstate: '42P01', reason: 'relation "student_similarity" does not exist: the graph cannot be written until the schema is repaired (run migrations / check grants)', since: expect.any(Number) }),
      );
      expect(policy.status.current()).toBeNull();
    });

    it('says so once at error level when the block starts and once when it clears, not once per retry', async () => {
      const service = new ScriptedSimilarityService((_, attempt) => (attempt <= 10 ? missingTable() : null));
      const policy = await policyWith(service);
      await policy.applier.apply(0, events('a'), control());
      expect(policy.logger.lines).toEqual([
        { level: 'error', message: expect.stringMatching(/^graph writes blocked \(SQLSTATE 42P01\): relation "student_similarity" does not exist: .*nothing is dead-lettered/) },
        { level: 'warn', message: expect.stringMatching(/^graph writes resumed after \d+ s blocked: the batch applied after 10 refusals/) },
      ]);
    });

    it('sets the blocked gauge to 1 with the SQLSTATE while blocked and back to 0 once a batch applies', async () => {
      let policy!: Awaited<ReturnType<typeof policyWith>>;
      const gaugeWhileRefused: unknown[] = [];
      const service = new ScriptedSimilarityService(async (_, attempt) => {
        if (attempt > 3) return null;
        gaugeWhileRefused.push(await policy.blockedGauge());
        return sqlError('42501', 'permission denied for table student_similarity');
      });
      policy = await policyWith(service);
      await policy.applier.apply(0, events('a'), control());
      expect(gaugeWhileRefused.slice(1)).toEqual(Array(2).fill([{ labels: { sqlstate: '42501' }, value: 1 }]));
      expect(await policy.blockedGauge()).toEqual([{ labels: {}, value: 0 }]);
    });

    it('clears the report when the consumer stops retrying a blocked batch (it is redelivered elsewhere)', async () => {
      const service = new ScriptedSimilarityService(() => missingTable());
      let beats = 0;
      const ctl = { heartbeat: async () => void beats++, isActive: () => beats < 3 };
      const policy = await policyWith(service);
      await expect(policy.applier.apply(0, events('a', 'b'), ctl)).rejects.toThrow(/does not exist|stopping/);
      expect(service.applied).toEqual([]);
      expect(policy.status.current()).toBeNull();
      expect(policy.logger.lines.map((l) => l.message)).toEqual([expect.stringMatching(/^graph writes blocked/), expect.stringMatching(/^graph writes no longer reported as blocked: the blocked batch left this consumer/)]);
    });
  });
});
