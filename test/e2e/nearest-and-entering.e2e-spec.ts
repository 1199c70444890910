import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { EmbeddingRepository } from '../../src/similarity/embedding.repository';
import { NeighborPool } from '../../src/similarity/graph/neighbor-pool';
import { NeighborPoolRepository } from '../../src/similarity/neighbor-pool.repository';
import { TestEnvironment } from '../support/harness';
import { exactNeighborsOf } from '../support/oracle';
import { clusteredVectors, seededRandom } from '../../workload/synthetic-vectors';

const THRESHOLD = 0.1;
const POOL_SIZE = 5;
const REACH = 40;

/**
 * A moved student's search on real pgvector: its nearest up to the pool's size, then, out to the
 * search's reach, only the students whose stored pool it may enter; judged by the tests' brute
 * force (the index is exact on a set this small at the service's ef_search).
 */
describe("a moved student's search keeps, beyond its own pool, only the pools it may enter", () => {
  const env = new TestEnvironment({ EMBEDDING_DIM: '8' });
  const embeddings = new EmbeddingRepository();
  const vectors = new Map<string, number[]>();
  const stored = new Map<string, NeighborPool>();
  let dataSource: DataSource;

  beforeAll(async () => {
    await env.setUp(1);
    clusteredVectors(seededRandom(7), 300, 8, 6, 0.6).forEach((vector, i) => vectors.set(`s-${String(i).padStart(3, '0')}`, vector));
    await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector })));
    dataSource = await new DataSource(dataSourceOptions(loadConfig(env.env).database)).initialize();
    // Pools are exact top-POOL_SIZE lists; every third student has none yet (not in the graph).
    for (const id of vectors.keys()) {
      if (Number(id.slice(2)) % 3 === 2) continue;
      const entries = exactNeighborsOf(id, vectors, POOL_SIZE, THRESHOLD);
      stored.set(id, { entries, bound: entries[POOL_SIZE - 1] ?? null });
    }
    await dataSource.transaction((db) => new NeighborPoolRepository().save(db, stored));
  });

  afterAll(async () => {
    await dataSource.destroy();
    await env.tearDown();
  });

  it('returns the pool-size nearest, then exactly the reachable students whose pool it may enter, and how far it reached', async () => {
    const movedIds = [...vectors.keys()].filter((_, i) => i % 10 === 0);
    const found = await dataSource.transaction(async (db) => {
      await db.query(`SELECT set_config('hnsw.ef_search', '300', true), set_config('hnsw.iterative_scan', 'strict_order', true)`);
      return embeddings.nearestAndEntering(db, movedIds, { mode: 'index', limit: REACH, threshold: THRESHOLD }, POOL_SIZE);
    });
    let beyondPool = 0;
    for (const id of movedIds) {
      const exact = exactNeighborsOf(id, vectors, REACH, THRESHOLD);
      // The database scores float32 vectors: a student within rounding of its pool's bound is left out.
      const borderline = (x: { studentId: string; similarity: number }) => Math.abs(x.similarity - (stored.get(x.studentId)?.bound?.similarity ?? THRESHOLD)) < 1e-5;
      const expected = exact.filter((x, rank) => rank < POOL_SIZE || (stored.has(x.studentId) && x.similarity > (stored.get(x.studentId)!.bound?.similarity ?? THRESHOLD)));
      const got = found.get(id)!;
      beyondPool += expected.length - POOL_SIZE;
      expect(got.neighbors.filter((x, rank) => rank < POOL_SIZE || !borderline(x)).map((x) => x.studentId)).toEqual(expected.filter((x, rank) => rank < POOL_SIZE || !borderline(x)).map((x) => x.studentId));
      got.neighbors.forEach((x) => expect(x.similarity).toBeCloseTo(exact.find((e) => e.studentId === x.studentId)!.similarity, 5));
      expect(got.reach).toBeCloseTo(exact[REACH - 1].similarity, 5);
    }
    expect(beyondPool).toBeGreaterThan(10);
    expect([...found.values()].every((f) => f.reachedSelf)).toBe(true);
  });

  it('says when the index walk did not reach the student itself (here: more twins than the search returns)', async () => {
    // Twins share one vector, so every twin's walk returns the same few of them and most miss themselves.
    const twins = Array.from({ length: 30 }, (_, i) => `twin-${String(i).padStart(2, '0')}`);
    await env.writeEmbeddings(twins.map((studentId) => ({ studentId, vector: [1, 2, 3, 4, 5, 6, 7, 8] })));
    const found = await dataSource.transaction(async (db) => {
      await db.query(`SELECT set_config('hnsw.ef_search', '300', true), set_config('hnsw.iterative_scan', 'strict_order', true)`);
      return embeddings.nearestAndEntering(db, twins, { mode: 'index', limit: 10, threshold: THRESHOLD }, 10);
    });
    for (const id of twins) {
      const { neighbors, reachedSelf } = found.get(id)!;
      expect(neighbors.map((n) => n.studentId)).not.toContain(id);
      expect(neighbors.length).toBe(reachedSelf ? 10 : 11);
    }
    expect(twins.filter((id) => !found.get(id)!.reachedSelf).length).toBeGreaterThanOrEqual(19);
  });
});
