import { Client } from 'pg';
import type * as AppConfigModule from '../src/config/app-config';
import type * as MigrateModule from '../src/database/migrate';
import { writeEmbeddings } from '../workload/embedding-writes';
import { builtModule, ServiceBuild } from './worker-process';
import { Workload } from '../workload/event-stream';

export const BENCH_DATABASE = 'similarity_bench';
const SERVER_URL = process.env.BENCH_PG_URL ?? `postgres://postgres@127.0.0.1:${process.env.LOCAL_PG_PORT ?? 54329}`;
export const BENCH_DB_URL = `${SERVER_URL}/${BENCH_DATABASE}`;
const LOAD_CHUNK = 2000;

export async function connect(url = BENCH_DB_URL): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: 'similarity-bench' });
  // A server restart kills idle connections too: the next query fails, and so does the run.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export async function withBenchDb<T>(work: (db: Client) => Promise<T>): Promise<T> {
  const db = await connect();
  try {
    return await work(db);
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** Runs `work` in one transaction on `db`: committed when it returns, rolled back when it throws. */
export async function inTransaction<T>(db: Client, work: () => Promise<T>): Promise<T> {
  await db.query('BEGIN');
  try {
    const result = await work();
    await db.query('COMMIT');
    return result;
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
}

/** Drops (and, unless `recreate` is false, recreates) the bench database through the admin database; touches no other database. */
export async function recreateBenchDatabase(recreate = true): Promise<void> {
  const admin = await connect(`${SERVER_URL}/postgres`);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    if (recreate) await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  } finally {
    await admin.end();
  }
}

/** The built service's migrations without their vector index: the bench builds (and times) indexes itself. */
export async function migrateWithoutVectorIndex(build: ServiceBuild, dimension: number): Promise<string[]> {
  // The database settings as the built service reads them (its defaults, the bench's URL).
  const { database } = builtModule<typeof AppConfigModule>(build, 'src/config/app-config').loadAdminConfig({ DB_URL: BENCH_DB_URL });
  const { runMigrations } = builtModule<typeof MigrateModule>(build, 'src/database/migrate');
  return runMigrations({ database, vectors: { dimension, index: 'none' } });
}

/** Loads the initial vectors (version 1) and keeps a copy, so every runner starts from the same state. */
export async function loadInitialEmbeddings(db: Client, workload: Workload): Promise<void> {
  const { ids, initial, dimension } = workload;
  for (let start = 0; start < ids.length; start += LOAD_CHUNK) {
    const chunk = ids.slice(start, start + LOAD_CHUNK);
    await writeEmbeddings(db, chunk.map((studentId, i) => ({ studentId, vector: initial.subarray((start + i) * dimension, (start + i + 1) * dimension), version: 1 })));
  }
  await db.query('CREATE TABLE bench_initial_embeddings AS TABLE student_embeddings');
  await db.query('ANALYZE student_embeddings');
}

/**
 * The graph's tables in the schema the measured build migrated: the pools are one row each from
 * migration 13 on, with a table of entries before it (a --service-commit build may be older).
 */
async function graphTables(db: Client): Promise<string[]> {
  const { rows } = await db.query("SELECT to_regclass('student_pool_entries') IS NOT NULL AS entries");
  return ['student_similarity', 'student_neighbor_pools', ...(rows[0].entries ? ['student_pool_entries'] : [])];
}

/** Keeps the service's graph and pools right after a rebuild, under `name` (tables `<name>_<table>`). */
export async function snapshotGraph(db: Client, name: string): Promise<void> {
  for (const table of await graphTables(db)) {
    await db.query(`DROP TABLE IF EXISTS ${name}_${table}`);
    await db.query(`CREATE TABLE ${name}_${table} AS TABLE ${table}`);
  }
}

/** Puts a snapshot's graph and pools back: a re-run starts from the same state. */
export async function restoreGraph(db: Client, name: string): Promise<void> {
  const tables = await graphTables(db);
  await db.query(`TRUNCATE ${tables.join(', ')}`);
  for (const table of tables) await db.query(`INSERT INTO ${table} SELECT * FROM ${name}_${table}`);
  await db.query(`VACUUM ANALYZE ${tables.join(', ')}`);
}

/** The service's index name and parameters, so the schema looks as its migration leaves it. */
export const HNSW_INDEX = 'student_embeddings_vec_idx';
const HNSW_PARAMETERS = 'm = 16, ef_construction = 64';

/** A cosine vector index on student_embeddings: the service's HNSW by default. */
export async function buildVectorIndex(db: Client, index = HNSW_INDEX, method: 'hnsw' | 'ivfflat' = 'hnsw', parameters = HNSW_PARAMETERS): Promise<void> {
  await db.query("SET maintenance_work_mem = '1GB'");
  await db.query(`CREATE INDEX ${index} ON student_embeddings USING ${method} (vec vector_cosine_ops) WITH (${parameters})`);
  await db.query('ANALYZE student_embeddings');
}

export async function dropIndex(db: Client, index: string): Promise<void> {
  await db.query(`DROP INDEX IF EXISTS ${index}`);
}

/** No graph at all: the state before any student's first event. */
export async function emptyGraph(db: Client): Promise<void> {
  await db.query(`TRUNCATE ${(await graphTables(db)).join(', ')}`);
}

/** Back to the initial embeddings (drop vector indexes first: refilling them row by row is slow). */
export async function restoreInitialEmbeddings(db: Client): Promise<void> {
  await db.query('TRUNCATE student_embeddings');
  await db.query('INSERT INTO student_embeddings SELECT * FROM bench_initial_embeddings');
  await db.query('VACUUM ANALYZE student_embeddings');
}

/** A fresh `graphTable` shaped like student_similarity, holding the graph of snapshot `name`. */
export async function copyGraphInto(db: Client, name: string, graphTable: string): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${graphTable}`);
  await db.query(`CREATE TABLE ${graphTable} (LIKE student_similarity INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)`);
  await db.query(`INSERT INTO ${graphTable} SELECT * FROM ${name}_student_similarity`);
  await db.query(`VACUUM ANALYZE ${graphTable}`);
}

/**
 * How long the vacuum that the upstream's updates left for student_embeddings takes (most of it
 * the HNSW index), done now in one process; an autovacuum still at it is cancelled by the wait.
 */
export async function vacuumEmbeddingsSeconds(db: Client): Promise<number> {
  const started = performance.now();
  await db.query('VACUUM (PARALLEL 0) student_embeddings');
  return (performance.now() - started) / 1000;
}
