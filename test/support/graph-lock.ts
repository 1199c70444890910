import { Client } from 'pg';
import { TestEnvironment } from './harness';

/**
 * The key of the transaction-scoped advisory lock every graph transaction of the worker takes
 * first (see NeighborPoolRepository): holding it from a test makes the worker's next batch wait,
 * which is how the tests keep a batch in flight for as long as they need.
 */
const GRAPH_WRITE_LOCK = 0x53494d47;

export interface HeldLock {
  release(): Promise<void>;
}

/** Takes the graph lock in a session of its own; the worker's transactions queue behind it. */
export async function holdGraphLock(env: TestEnvironment): Promise<HeldLock> {
  const client = new Client({ connectionString: env.databaseUrl });
  await client.connect();
  await client.query('SELECT pg_advisory_lock($1::bigint)', [GRAPH_WRITE_LOCK]);
  return {
    release: async () => {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [GRAPH_WRITE_LOCK]);
      await client.end();
    },
  };
}

/** How many backends of the environment's database are waiting on an advisory lock right now. */
export async function graphLockWaiters(env: TestEnvironment): Promise<number> {
  const { rows } = await env.db.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'");
  return rows[0].n;
}
