import { DataSource } from 'typeorm';
import { clusteredVectors, seededRandom } from '../../workload/synthetic-vectors';
import { loadConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { EmbeddingRepository } from '../../src/similarity/embedding.repository';
import { TestEnvironment } from '../support/harness';
import { exactNeighborsOf } from '../support/oracle';
import { explainNearest } from '../support/query-plan';

describe('vector searches use the plan they are meant to (EXPLAIN on real pgvector)', () => {
  const env = new TestEnvironment();
  const embeddings = new EmbeddingRepository();
  const vectors = new Map<string, number[]>();
  let dataSource: DataSource;

  beforeAll(async () => {
    await env.setUp(1);
    clusteredVectors(seededRandom(3), 3000, 384, 20, 1).forEach((vector, i) => vectors.set(`s-${i}`, vector));
    await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector })));
    await env.db.query('ANALYZE student_embeddings');
    dataSource = await new DataSource(dataSourceOptions(loadConfig(env.env).database)).initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await env.tearDown();
  });

  it('runs the pgvector version the install script and docker-compose name', async () => {
    const { readFileSync } = await import('node:fs');
    const [{ extversion }] = (await env.db.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'")).rows;
    expect(readFileSync('scripts/services/install.sh', 'utf8')).toContain(`pgvector ${extversion}`);
    expect(readFileSync('docker-compose.yml', 'utf8')).toContain(`pgvector/pgvector:${extversion}-pg16`);
  });

  it('index mode walks the HNSW index with the query vector as a subquery', async () => {
    const plan = await explainNearest(dataSource.manager, 's-1', { mode: 'index', limit: 30, threshold: 0.1 });
    expect(plan).toMatch(/Index Scan using student_embeddings_vec_idx/);
  });

  it('exact mode scans every row and never the approximate index', async () => {
    const plan = await explainNearest(dataSource.manager, 's-1', { mode: 'exact', limit: 30, threshold: 0.1 });
    expect(plan).toMatch(/Seq Scan on student_embeddings e/);
    expect(plan).not.toMatch(/student_embeddings_vec_idx/);
  });

  it("index mode finds nearly what the tests' brute force finds, most similar first", async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `s-${i * 30}`);
    const approximate = await dataSource.transaction(async (db) => {
      await db.query(`SELECT set_config('hnsw.ef_search', '100', true), set_config('hnsw.iterative_scan', 'strict_order', true)`);
      return embeddings.nearest(db, ids, { mode: 'index', limit: 15, threshold: 0.1 });
    });
    const exact = new Map(ids.map((id) => [id, exactNeighborsOf(id, vectors, 15, 0.1)]));
    let hits = 0;
    let total = 0;
    for (const id of ids) {
      const found = new Set(approximate.get(id)!.map((n) => n.studentId));
      const list = approximate.get(id)!;
      expect(list.every((n, i) => i === 0 || n.similarity <= list[i - 1].similarity)).toBe(true);
      for (const n of exact.get(id)!) {
        total++;
        if (found.has(n.studentId)) hits++;
      }
    }
    expect(total).toBeGreaterThan(1000);
    expect(hits / total).toBeGreaterThan(0.95);
  });
});
