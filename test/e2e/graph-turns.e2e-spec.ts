import { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { WorkerMetrics } from '../../src/metrics/worker-metrics';
import { EmbeddingEvent } from '../../src/similarity/dto/embedding-event';
import { SimilarityService } from '../../src/similarity/similarity.service';
import { graphViolations } from '../support/graph-check';
import { graphLockWaiters, holdGraphLock } from '../support/graph-lock';
import { graphServiceModule } from '../support/graph-service';
import { TestEnvironment } from '../support/harness';
import { clusteredVectors, seededRandom } from '../../workload/synthetic-vectors';
import { waitFor } from '../support/wait-for';

const K = 6;
const THRESHOLD = 0.1;
const DIMENSION = 12;
const BATCHES = 3;

/**
 * One worker's batches of different partitions arrive at the graph together (the worker consumes
 * several partitions at once). They must take turns before their transactions begin: a batch
 * that waited for the graph lock inside an open transaction would make that transaction last as
 * long as the others' work, which is what made transactions outlast their budget at 100,000
 * students.
 */
describe("one worker's concurrent batches", () => {
  let env: TestEnvironment;
  let module: TestingModule;
  let service: SimilarityService;
  let metrics: WorkerMetrics;

  beforeAll(async () => {
    env = new TestEnvironment({ MAX_NEIGHBORS: String(K), NEIGHBOR_RESERVE: '3', SIMILARITY_THRESHOLD: String(THRESHOLD), EMBEDDING_DIM: String(DIMENSION), CANDIDATE_SEARCH: 'exact' });
    await env.setUp(1);
    ({ module, service } = await graphServiceModule(env));
    metrics = module.get(WorkerMetrics);
  });

  afterAll(async () => {
    await module.close();
    await env.tearDown();
  });

  /** Transactions open on the database right now, apart from the one asking. */
  async function openTransactions(): Promise<number> {
    const { rows } = await env.db.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()');
    return rows[0].n;
  }

  const turnsWaiting = async () => (await metrics.graphTurnsWaiting.get()).values[0]?.value ?? 0;

  it('wait for their turn outside any transaction, and all land', async () => {
    const random = seededRandom(4242);
    const vectors = new Map<string, number[]>();
    const ids = Array.from({ length: 90 }, (_, i) => `t-${String(i).padStart(2, '0')}`);
    clusteredVectors(random, ids.length, DIMENSION, 4).forEach((v, i) => vectors.set(ids[i], v));
    await env.writeEmbeddings(ids.map((id) => ({ studentId: id, vector: vectors.get(id)!, version: 1 })));
    const batches: EmbeddingEvent[][] = Array.from({ length: BATCHES }, (_, b) =>
      ids.filter((_, i) => i % BATCHES === b).map((id) => ({ studentId: id, eventId: randomUUID(), version: 1, op: 'upsert' })),
    );

    const lock = await holdGraphLock(env);
    let applied: Promise<unknown>;
    try {
      applied = Promise.all(batches.map((batch) => service.applyEvents(batch)));
      applied.catch(() => undefined);
      const reached = await waitFor(async () => {
        const state = { waitingForLock: await graphLockWaiters(env), waitingForTurn: await turnsWaiting(), open: await openTransactions() };
        return state.waitingForLock + state.waitingForTurn === BATCHES && state;
      }, 'every batch to reach the graph step');

      expect(reached).toEqual({ waitingForLock: 1, waitingForTurn: BATCHES - 1, open: 1 });
    } finally {
      await lock.release();
    }
    await applied;

    expect(await turnsWaiting()).toBe(0);
    expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
  });
});
