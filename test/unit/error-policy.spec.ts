import { Test } from '@nestjs/testing';
import { PinoLogger } from 'nestjs-pino';
import { Counter } from 'prom-client';
import { AppConfig } from '../../src/config/app-config';
import { APP_CONFIG } from '../../src/config/config.module';
import { WorkerMetrics } from '../../src/metrics/worker-metrics';
import { EmbeddingEvent } from '../../src/similarity/dto/embedding-event';
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
  constructor(private readonly failure: (studentIds: string[], attempt: number) => Error | null) {}

  async applyEvents(batch: EmbeddingEvent[]) {
    const ids = batch.map((e) => e.studentId);
    this.attempts.push(ids);
    const error = this.failure(ids, this.attempts.filter((a) => a.join() === ids.join()).length);
    if (error) throw error;
    this.applied.push(ids);
    return { rejected: [] };
  }
}

async function applierWith(service: ScriptedSimilarityService, retry = { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 }) {
  const module = await Test.createTestingModule({
    providers: [
      ResilientEventApplier,
      { provide: SimilarityService, useValue: service },
      { provide: APP_CONFIG, useValue: { retry } as Partial<AppConfig> },
      { provide: WorkerMetrics, useValue: { retries: new Counter({ name: 'retries_in_test', help: 'retries', labelNames: ['kind'], registers: [] }) } },
      { provide: PinoLogger, useValue: new PinoLogger({ pinoHttp: { level: 'silent' } }) },
    ],
  }).compile();
  return module.get(ResilientEventApplier);
}

const control = () => {
  const beats = { count: 0 };
  return { beats, heartbeat: async () => void beats.count++, isActive: () => true };
};

describe('error policy (ResilientEventApplier with the graph service replaced)', () => {
  it('isolates a poison event by splitting the batch: only it is rejected, every other event is applied', async () => {
    const service = new ScriptedSimilarityService((ids) => (ids.includes('poison') ? sqlError('22P02', 'invalid input syntax') : null));
    const applier = await applierWith(service);
    const result = await applier.apply(events('a', 'b', 'poison', 'c', 'd'), control());
    expect(result.rejected.map((r) => [r.event.studentId, r.rejection.category])).toEqual([['poison', 'processing-error']]);
    expect(result.rejected[0].rejection.reason).toMatch(/failed: invalid input syntax/);
    expect(service.applied.flat().sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('retries a conflict and applies the batch when a retry succeeds', async () => {
    const service = new ScriptedSimilarityService((_, attempt) => (attempt < 3 ? sqlError('40P01', 'deadlock detected') : null));
    const ctl = control();
    const result = await (await applierWith(service)).apply(events('a', 'b'), ctl);
    expect(result.rejected).toEqual([]);
    expect(service.attempts).toHaveLength(3);
    expect(ctl.beats.count).toBe(2);
  });

  it('dead-letters an event whose conflicts outlast the retries, as retries-exhausted', async () => {
    const service = new ScriptedSimilarityService(() => sqlError('40001', 'could not serialize access'));
    const result = await (await applierWith(service, { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 })).apply(events('a'), control());
    expect(result.rejected.map((r) => r.rejection.category)).toEqual(['retries-exhausted']);
    expect(result.rejected[0].rejection.reason).toMatch(/retries exhausted: could not serialize access/);
    expect(service.applied).toEqual([]);
  });

  it('keeps retrying while the database is unavailable, heartbeating, and never dead-letters for it', async () => {
    const service = new ScriptedSimilarityService((_, attempt) => (attempt <= 8 ? Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) : null));
    const ctl = control();
    const result = await (await applierWith(service, { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 })).apply(events('a', 'b'), ctl);
    expect(result.rejected).toEqual([]);
    expect(service.attempts).toHaveLength(9);
    expect(ctl.beats.count).toBe(8);
    expect(service.applied).toEqual([['a', 'b']]);
  });

  it('stops retrying once the consumer is no longer active, leaving the batch to be redelivered', async () => {
    const service = new ScriptedSimilarityService(() => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    let active = true;
    const ctl = { heartbeat: async () => void (active = false), isActive: () => active };
    await expect((await applierWith(service)).apply(events('a'), ctl)).rejects.toThrow(/ECONNREFUSED|stopping/);
    expect(service.applied).toEqual([]);
  });
});
