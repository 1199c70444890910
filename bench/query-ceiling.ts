import { Client } from 'pg';
import { connect } from './bench-database';

export interface CeilingQuery {
  studentId: string;
  /** The query vector in pgvector's text form. */
  vector: string;
}

export interface CeilingResult {
  index: 'exact scan' | 'hnsw' | 'ivfflat';
  setting: string;
  qpsOneConnection: number;
  qpsTwoConnections: number;
  /** Share of the exact top-15 found, over all queries. */
  recall: number;
  planTop: string;
}

const TOP_K = 15;
const WARM_UP_QUERIES = 20;
const CEILING_SQL = `SELECT student_id FROM student_embeddings WHERE student_id <> $1 ORDER BY vec <=> $2::vector LIMIT ${TOP_K}`;

/** Query students spread over the table, with their current vectors. */
export async function ceilingQueries(db: Client, count: number): Promise<CeilingQuery[]> {
  const { rows } = await db.query(
    `SELECT student_id, vec::text AS vector FROM (
       SELECT student_id, vec, row_number() OVER (ORDER BY student_id) AS n, count(*) OVER () AS total FROM student_embeddings) t
      WHERE (n - 1) % greatest(1, total / $1) = 0 ORDER BY student_id LIMIT $1`,
    [count],
  );
  return rows.map((r) => ({ studentId: r.student_id, vector: r.vector }));
}

/**
 * Top-15 queries per second with one connection, then with two in parallel, under the given
 * session settings; recall against `exact` (the exact scan's results, or null when this is it).
 */
export async function measureCeiling(
  index: CeilingResult['index'],
  setting: string,
  sessionSettings: string[],
  queries: CeilingQuery[],
  exact: Map<string, string[]> | null,
): Promise<{ result: CeilingResult; found: Map<string, string[]> }> {
  const clients = await Promise.all([openSession(sessionSettings), openSession(sessionSettings)]);
  try {
    await runQueries(clients[0], queries.slice(0, WARM_UP_QUERIES));
    const one = await timedQueries([clients[0]], queries);
    const two = await timedQueries(clients, queries);
    const found = one.found;
    const plan = await clients[0].query(`EXPLAIN (FORMAT JSON) ${CEILING_SQL}`, [queries[0].studentId, queries[0].vector]);
    return {
      result: {
        index,
        setting,
        qpsOneConnection: one.qps,
        qpsTwoConnections: two.qps,
        recall: exact ? recallAgainst(exact, found) : 1,
        planTop: describePlan(plan.rows[0]['QUERY PLAN'][0].Plan),
      },
      found,
    };
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

async function openSession(settings: string[]): Promise<Client> {
  const client = await connect();
  for (const statement of settings) await client.query(statement);
  return client;
}

async function runQueries(client: Client, queries: CeilingQuery[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const q of queries) {
    const { rows } = await client.query(CEILING_SQL, [q.studentId, q.vector]);
    found.set(q.studentId, rows.map((r) => r.student_id));
  }
  return found;
}

/** The queries split evenly over the clients, run in parallel; QPS over the wall time. */
async function timedQueries(clients: Client[], queries: CeilingQuery[]): Promise<{ qps: number; found: Map<string, string[]> }> {
  const started = performance.now();
  const parts = await Promise.all(clients.map((client, c) => runQueries(client, queries.filter((_, i) => i % clients.length === c))));
  const seconds = (performance.now() - started) / 1000;
  return { qps: queries.length / seconds, found: new Map(parts.flatMap((part) => [...part])) };
}

function recallAgainst(exact: Map<string, string[]>, found: Map<string, string[]>): number {
  let hits = 0;
  let expected = 0;
  for (const [studentId, truth] of exact) {
    const got = new Set(found.get(studentId) ?? []);
    hits += truth.filter((id) => got.has(id)).length;
    expected += truth.length;
  }
  return expected === 0 ? 1 : hits / expected;
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** The plan as a chain of node types, joins with their inputs in brackets, e.g. "Limit > Index Scan (idx)". */
export function describePlan(plan: PlanNode): string {
  const label = plan['Index Name'] ? `${plan['Node Type']} (${plan['Index Name']})` : plan['Node Type'];
  const children = plan.Plans ?? [];
  if (children.length === 0) return label;
  if (children.length === 1) return `${label} > ${describePlan(children[0])}`;
  return `${label} > [${children.map(describePlan).join(' x ')}]`;
}
