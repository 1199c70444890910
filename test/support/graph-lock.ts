import { Client } from 'pg';
import { TestEnvironment } from './harness';

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Locks every partition's owner row (graph_partition_owners) FOR UPDATE in a session of its own,
 * as a rebuild chunk does: every graph transaction of the worker locks its partition's row first,
 * so the worker's next batch of any partition waits, which is how the tests keep a batch in
 * flight for as long as they need. Only partitions already taken (rows present) are held.
 */
export async function holdGraphLock(env: TestEnvironment): Promise<HeldLock> {
  const client = new Client({ connectionString: env.databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT partition FROM graph_partition_owners ORDER BY partition FOR UPDATE');
  return {
    release: async () => {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

/** How many backends of the environment's database are waiting right now on a row lock of graph_partition_owners. */
export async function graphLockWaiters(env: TestEnvironment): Promise<number> {
  const { rows } = await env.db.query(
    `SELECT count(DISTINCT w.pid)::int AS n
       FROM pg_locks w
       JOIN pg_stat_activity a ON a.pid = w.pid
      WHERE NOT w.granted AND a.datname = current_database()
        AND (w.relation = 'graph_partition_owners'::regclass
             OR (w.locktype = 'transactionid' AND a.query ILIKE '%graph_partition_owners%'))`,
  );
  return rows[0].n;
}
