import { Client } from 'pg';
import type * as AppConfigModule from '../src/config/app-config';
import type * as MigrateModule from '../src/database/migrate';
import { writeEmbeddings } from '../workload/embedding-writes';
import { builtModule, ServiceBuild } from './worker-process';
import { StudentEvent, Workload } from './workload';

export const BENCH_DATABASE = 'similarity_bench';
const SERVER_URL = process.env.BENCH_PG_URL ?? `postgres://postgres@127.0.0.1:${process.env.LOCAL_PG_PORT ?? 54329}`;
export const BENCH_DB_URL = `${SERVER_URL}/${BENCH_DATABASE}`;
const LOAD_CHUNK = 2000;

export async function connect(url = BENCH_DB_URL): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: 'similarity-bench' });
  // A server restart kills idle connections too; the next query fails and the phase reruns.
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

/** When the server last started, waiting (up to `timeoutMs`) while it is down. */
export async function serverStartTime(timeoutMs = 600_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const admin = await connect(`${SERVER_URL}/postgres`);
      try {
        const { rows: [row] } = await admin.query('SELECT pg_postmaster_start_time()::text AS started');
        return row.started;
      } finally {
        await admin.end().catch(() => undefined);
      }
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** Drops and recreates the bench database through the admin database; touches no other database. */
export async function recreateBenchDatabase(): Promise<void> {
  const admin = await connect(`${SERVER_URL}/postgres`);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  } finally {
    await admin.end();
  }
}

export async function dropBenchDatabase(): Promise<void> {
  const admin = await connect(`${SERVER_URL}/postgres`);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
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
 * Keeps the service's graph, pools and pool entries right after a rebuild, under `name`
 * (tables `<name>_similarity`, `<name>_pools`, `<name>_entries`).
 */
export async function snapshotGraph(db: Client, name: string): Promise<void> {
  for (const [copy, table] of [[`${name}_similarity`, 'student_similarity'], [`${name}_pools`, 'student_neighbor_pools'], [`${name}_entries`, 'student_pool_entries']]) {
    await db.query(`DROP TABLE IF EXISTS ${copy}`);
    await db.query(`CREATE TABLE ${copy} AS TABLE ${table}`);
  }
}

/** Puts a snapshot's graph, pools and pool entries back: a re-run starts from the same state. */
export async function restoreGraph(db: Client, name: string): Promise<void> {
  await db.query('TRUNCATE student_similarity, student_neighbor_pools, student_pool_entries');
  await db.query(`INSERT INTO student_similarity SELECT * FROM ${name}_similarity`);
  await db.query(`INSERT INTO student_neighbor_pools SELECT * FROM ${name}_pools`);
  await db.query(`INSERT INTO student_pool_entries SELECT * FROM ${name}_entries`);
  await db.query('VACUUM ANALYZE student_similarity, student_neighbor_pools, student_pool_entries');
}

/** No graph at all: the state before any student's first event. */
export async function emptyGraph(db: Client): Promise<void> {
  await db.query('TRUNCATE student_similarity, student_neighbor_pools, student_pool_entries');
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
  await db.query(`INSERT INTO ${graphTable} SELECT * FROM ${name}_similarity`);
  await db.query(`VACUUM ANALYZE ${graphTable}`);
}

/**
 * What the upstream producer does before it publishes events: write each student's last new
 * vector (with the event's version) and delete the rows of students whose last event is a leave.
 */
export async function applyUpstreamChanges(db: Client, events: Pick<StudentEvent, 'message' | 'change'>[]): Promise<void> {
  const last = new Map<string, Pick<StudentEvent, 'message' | 'change'>>();
  for (const event of events) if (event.change.kind !== 'none') last.set(event.message.student_id, event);
  const upserts = [...last.values()].filter((e) => e.change.kind === 'upsert');
  const deletes = [...last.values()].filter((e) => e.change.kind === 'delete').map((e) => e.message.student_id);
  if (upserts.length > 0) {
    await writeEmbeddings(
      db,
      upserts.map((e) => ({ studentId: e.message.student_id, vector: (e.change as { vector: Float32Array }).vector, version: e.message.version! })),
    );
  }
  if (deletes.length > 0) await db.query('DELETE FROM student_embeddings WHERE student_id = ANY($1::text[])', [deletes]);
}

export interface TableFootprint {
  table: string;
  liveTuples: number;
  deadTuples: number;
  autovacuums: number;
  tableBytes: number;
  indexBytes: number;
  totalBytes: number;
  indexes: { name: string; bytes: number }[];
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

/** Tuples and sizes of the service's tables (dead tuples as the statistics collector counts them). */
export async function tableFootprints(db: Client, tables = ['student_embeddings', 'student_similarity', 'student_neighbor_pools', 'student_pool_entries', 'student_graph_changes']): Promise<TableFootprint[]> {
  const { rows } = await db.query(
    `SELECT t.relname AS table, t.n_live_tup::bigint AS live, t.n_dead_tup::bigint AS dead, t.autovacuum_count::bigint AS autovacuums,
            pg_relation_size(t.relid) AS table_bytes, pg_indexes_size(t.relid) AS index_bytes, pg_total_relation_size(t.relid) AS total_bytes,
            coalesce((SELECT json_agg(json_build_object('name', i.indexrelname, 'bytes', pg_relation_size(i.indexrelid)) ORDER BY i.indexrelname)
                        FROM pg_stat_user_indexes i WHERE i.relid = t.relid), '[]') AS indexes
       FROM pg_stat_user_tables t WHERE t.relname = ANY($1::text[]) ORDER BY t.relname`,
    [tables],
  );
  return rows.map((r) => ({
    table: r.table,
    liveTuples: Number(r.live),
    deadTuples: Number(r.dead),
    autovacuums: Number(r.autovacuums),
    tableBytes: Number(r.table_bytes),
    indexBytes: Number(r.index_bytes),
    totalBytes: Number(r.total_bytes),
    indexes: r.indexes,
  }));
}
