import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { WIDEST_HNSW_EF_SEARCH } from '../../src/config/app-config';
import { WorkerMetrics } from '../../src/metrics/worker-metrics';
import { EmbeddingRepository, NearestWalk, NeighborSearch } from '../../src/similarity/embedding.repository';
import { GraphRebuilder } from '../../src/similarity/graph-rebuilder';
import { graphViolations } from '../support/graph-check';
import { graphServiceModule } from '../support/graph-service';
import { TestEnvironment } from '../support/harness';
import { cosineSimilarity } from '../support/oracle';
import { clusteredVectors, seededRandom } from '../../workload/synthetic-vectors';

const K = 4;
const THRESHOLD = 0.1;

interface LostWalk {
  /** The student whose region the walk wrongly returns. */
  decoy: string;
  /** Whether the widest walk (hnsw.ef_search at pgvector's largest) finds the student; otherwise every walk is lost. */
  foundWider: boolean;
}

/** Lost walks to fake, by student. */
const lostWalks = new Map<string, LostWalk>();

/**
 * The real repository, except that the index walks of the students in `lostWalks` come back
 * from a far region without the student itself: what a lost HNSW walk looks like.
 */
@Injectable()
class RepositoryWithLostWalks extends EmbeddingRepository {
  override async walk(db: EntityManager, studentIds: string[], search: NeighborSearch): Promise<Map<string, NearestWalk>> {
    const [{ ef_search }] = await db.query(`SELECT current_setting('hnsw.ef_search')::int AS ef_search`);
    const isLost = (id: string) => lostWalks.has(id) && !(lostWalks.get(id)!.foundWider && ef_search === WIDEST_HNSW_EF_SEARCH);
    const found = await super.walk(db, studentIds, search);
    const decoys = await super.walk(db, [...new Set(studentIds.filter(isLost).map((id) => lostWalks.get(id)!.decoy))], search);
    for (const id of studentIds.filter(isLost)) {
      const decoy = decoys.get(lostWalks.get(id)!.decoy)!;
      found.set(id, { ...decoy, neighbors: decoy.neighbors.filter((n) => n.studentId !== id), reachedSelf: false });
    }
    return found;
  }
}

/**
 * An index walk that never reached the student itself searched the wrong region; the pool
 * rules would never repair such a list. The service walks those students again as wide as the
 * index allows and searches exactly the ones still lost, for a move, a refill (made while
 * judging repairs) and a rebuild; judged by the tests' brute force after every repair is applied.
 */
describe('index mode: a student whose index walk was lost is walked wider, then searched exactly', () => {
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

  const lostCounts = async (metrics: WorkerMetrics) =>
    Object.fromEntries((await metrics.indexWalksLost.get()).values.map((v) => [v.labels.found_by, v.value]));

  it('moved students: their lists are exact, and the lost walks are counted by what found them', async () => {
    const { module, applyAndSettle } = await graphServiceModule(env, RepositoryWithLostWalks);
    try {
      await applyAndSettle([...vectors.keys()].map((id) => event(id, 1)));
      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);

      // Four students jump next to a student of another cluster; their walks get lost.
      const ids = [...vectors.keys()];
      const movers = ids.slice(0, 4);
      for (const [i, id] of movers.entries()) {
        const beside = vectors.get(ids[ids.length - 1 - 7 * i])!;
        vectors.set(id, beside.map((x) => x + 0.05 * (random() - 0.5)));
        lostWalks.set(id, { decoy: farthestFrom(vectors.get(id)!), foundWider: i % 2 === 0 });
      }
      await env.writeEmbeddings(movers.map((studentId) => ({ studentId, vector: vectors.get(studentId)!, version: 2 })));
      await applyAndSettle(movers.map((id) => event(id, 2)));

      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
      expect(await lostCounts(module.get(WorkerMetrics))).toEqual({ wider_walk: 2, exact_search: 2 });
    } finally {
      await module.close();
    }
  });

  it('refills: a pool whose members all left is refilled by a wider walk or exactly', async () => {
    const { module, applyAndSettle } = await graphServiceModule(env, RepositoryWithLostWalks);
    try {
      await module.get(GraphRebuilder).rebuild({ chunkSize: 50, resume: false });
      const ids = [...vectors.keys()];
      const owners = [ids[20], ids[100]];
      const nearestOf = (owner: string) => ids.filter((id) => !owners.includes(id)).sort((a, b) => cosineSimilarity(vectors.get(b)!, vectors.get(owner)!) - cosineSimilarity(vectors.get(a)!, vectors.get(owner)!));
      const leaving = [...new Set(owners.flatMap((owner) => nearestOf(owner).slice(0, K + 2)))];
      owners.forEach((owner, i) => lostWalks.set(owner, { decoy: farthestFrom(vectors.get(owner)!), foundWider: i === 0 }));
      await env.db.query('DELETE FROM student_embeddings WHERE student_id = ANY($1::text[])', [leaving]);
      for (const id of leaving) vectors.delete(id);
      await applyAndSettle(leaving.map((id) => ({ studentId: id, eventId: randomUUID(), version: null, op: 'delete' as const })));

      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
      expect(await lostCounts(module.get(WorkerMetrics))).toEqual({ wider_walk: 1, exact_search: 1 });
    } finally {
      await module.close();
    }
  });

  it('a rebuild: every lost walk is walked wider or searched exactly', async () => {
    const { module } = await graphServiceModule(env, RepositoryWithLostWalks);
    try {
      [...vectors.keys()].forEach((id, i) => i % 5 === 0 && lostWalks.set(id, { decoy: farthestFrom(vectors.get(id)!), foundWider: i % 10 === 0 }));
      await module.get(GraphRebuilder).rebuild({ chunkSize: 50, resume: false });
      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
    } finally {
      await module.close();
    }
  });
});
