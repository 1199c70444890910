import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { WorkerMetrics } from '../../src/metrics/worker-metrics';
import { EmbeddingRepository, NearestAndEntering, NeighborSearch } from '../../src/similarity/embedding.repository';
import { GraphRebuilder } from '../../src/similarity/graph-rebuilder';
import { graphViolations } from '../support/graph-check';
import { graphServiceModule } from '../support/graph-service';
import { TestEnvironment } from '../support/harness';
import { cosineSimilarity } from '../support/oracle';
import { clusteredVectors, seededRandom } from '../support/synthetic-vectors';

const K = 4;
const THRESHOLD = 0.1;

/** Lost walks to fake: student -> the student whose region its walk wrongly returns. */
const lostWalks = new Map<string, string>();

/**
 * The real repository, except that the index walks of the students in `lostWalks` come back
 * from a far region without the student itself: what a lost HNSW walk looks like.
 */
@Injectable()
class RepositoryWithLostWalks extends EmbeddingRepository {
  override async nearestAndEntering(db: EntityManager, studentIds: string[], search: NeighborSearch, poolSize: number): Promise<Map<string, NearestAndEntering>> {
    const found = await super.nearestAndEntering(db, studentIds, search, poolSize);
    const decoys = await super.nearestAndEntering(db, [...new Set(studentIds.filter((id) => lostWalks.has(id)).map((id) => lostWalks.get(id)!))], search, poolSize);
    for (const id of studentIds) {
      if (!lostWalks.has(id)) continue;
      const decoy = decoys.get(lostWalks.get(id)!)!;
      found.set(id, { ...decoy, neighbors: decoy.neighbors.filter((n) => n.studentId !== id), reachedSelf: false });
    }
    return found;
  }
}

/**
 * An index walk that never reached the student itself searched the wrong region; the pool
 * rules would never repair such a list. The service searches those students exactly, for a
 * move and for a rebuild; judged by the tests' brute force.
 */
describe('index mode: a student whose index walk was lost is searched exactly', () => {
  const env = new TestEnvironment({
    CANDIDATE_SEARCH: 'index',
    MAX_NEIGHBORS: String(K),
    NEIGHBOR_RESERVE: '2',
    REVERSE_CANDIDATES: '10',
    REVERSE_SEEDS: '2',
    SIMILARITY_THRESHOLD: String(THRESHOLD),
    EMBEDDING_DIM: '8',
  });
  const random = seededRandom(11);
  const vectors = new Map<string, number[]>();

  beforeAll(async () => {
    await env.setUp(1);
    clusteredVectors(random, 160, 8, 4, 0.5).forEach((vector, i) => vectors.set(`s-${String(i).padStart(3, '0')}`, vector));
    await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector, version: 1 })));
  });

  afterEach(() => lostWalks.clear());
  afterAll(() => env.tearDown());

  const event = (studentId: string, version: number) => ({ studentId, eventId: randomUUID(), version, op: 'upsert' as const });
  /** The student least like `vector`: its region is the wrong one. */
  const farthestFrom = (vector: number[]) => [...vectors].reduce((far, x) => (cosineSimilarity(x[1], vector) < cosineSimilarity(far[1], vector) ? x : far))[0];

  it('moved students: their lists are exact, and the lost walks are counted', async () => {
    const { module, service } = await graphServiceModule(env, RepositoryWithLostWalks);
    try {
      await service.applyEvents([...vectors.keys()].map((id) => event(id, 1)));
      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);

      // Four students jump next to a student of another cluster; their walks get lost.
      const ids = [...vectors.keys()];
      const movers = ids.slice(0, 4);
      for (const [i, id] of movers.entries()) {
        const beside = vectors.get(ids[ids.length - 1 - 7 * i])!;
        vectors.set(id, beside.map((x) => x + 0.05 * (random() - 0.5)));
        lostWalks.set(id, farthestFrom(vectors.get(id)!));
      }
      await env.writeEmbeddings(movers.map((studentId) => ({ studentId, vector: vectors.get(studentId)!, version: 2 })));
      await service.applyEvents(movers.map((id) => event(id, 2)));

      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
      const [{ value }] = (await module.get(WorkerMetrics).indexWalksLost.get()).values;
      expect(value).toBe(movers.length);
    } finally {
      await module.close();
    }
  });

  it('a rebuild: every lost walk is searched exactly', async () => {
    const { module } = await graphServiceModule(env, RepositoryWithLostWalks);
    try {
      for (const id of [...vectors.keys()].filter((_, i) => i % 5 === 0)) lostWalks.set(id, farthestFrom(vectors.get(id)!));
      await module.get(GraphRebuilder).rebuild({ chunkSize: 50, resume: false });
      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
    } finally {
      await module.close();
    }
  });
});
