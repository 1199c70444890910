import { Client } from 'pg';

/** The service's index name, so the schema looks as the migration would leave it. */
export const HNSW_INDEX = 'student_embeddings_vec_idx';
export const IVFFLAT_INDEX = 'bench_ivfflat_idx';
export const SEED_IVFFLAT_INDEX = 'bench_seed_ivfflat_idx';
export const HNSW_BUILD = { m: 16, efConstruction: 64 } as const;

export interface IndexBuild {
  index: string;
  method: 'hnsw' | 'ivfflat';
  parameters: string;
  rows: number;
  seconds: number;
  bytes: number;
}

export async function buildHnswIndex(db: Client): Promise<IndexBuild> {
  const parameters = `m = ${HNSW_BUILD.m}, ef_construction = ${HNSW_BUILD.efConstruction}`;
  return timedBuild(db, HNSW_INDEX, 'hnsw', parameters);
}

export async function buildIvfflatIndex(db: Client, index: string, lists: number): Promise<IndexBuild> {
  return timedBuild(db, index, 'ivfflat', `lists = ${lists}`);
}

export async function dropIndex(db: Client, index: string): Promise<void> {
  await db.query(`DROP INDEX IF EXISTS ${index}`);
}

async function timedBuild(db: Client, index: string, method: IndexBuild['method'], parameters: string): Promise<IndexBuild> {
  await db.query("SET maintenance_work_mem = '1GB'");
  const started = performance.now();
  await db.query(`CREATE INDEX ${index} ON student_embeddings USING ${method} (vec vector_cosine_ops) WITH (${parameters})`);
  const seconds = (performance.now() - started) / 1000;
  await db.query('ANALYZE student_embeddings');
  const { rows: [size] } = await db.query('SELECT pg_relation_size($1::regclass) AS bytes, (SELECT count(*) FROM student_embeddings)::int AS rows', [index]);
  return { index, method, parameters, rows: size.rows, seconds, bytes: Number(size.bytes) };
}
