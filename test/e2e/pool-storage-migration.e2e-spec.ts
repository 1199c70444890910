import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { runMigrations } from '../../src/database/migrate';
import { NeighborPoolRepository } from '../../src/similarity/neighbor-pool.repository';
import { TestEnvironment } from '../support/harness';

describe('pools as one row (migration 13 on real PostgreSQL)', () => {
  const env = new TestEnvironment();
  const pools = new NeighborPoolRepository();
  let dataSource: DataSource;

  beforeAll(async () => {
    await env.setUp(1);
    dataSource = await new DataSource(dataSourceOptions(loadConfig(env.env).database)).initialize();
  });

  afterAll(async () => {
    await dataSource.destroy();
    await env.tearDown();
  });

  it('moves the entry rows of a graph written before it into their pools, in order, keeping bounds and owner hashes', async () => {
    await dataSource.undoLastMigration({ transaction: 'each' });
    await env.db.query(`INSERT INTO student_neighbor_pools (student_id, bound_id, bound_similarity, owner_hash) VALUES ('a', 'x', 0.1, 7), ('empty', NULL, NULL, 8)`);
    await env.db.query(
      `INSERT INTO student_pool_entries (owner, member, similarity, owner_hash)
       VALUES ('a', 'c', 0.5, 7), ('a', 'b', 0.9, 7), ('a', 'd', 0.5, 7), ('entries-only', 'a', 0.3, 9)`,
    );

    expect(await runMigrations(loadConfig(env.env))).toEqual(['PoolsAsOneRow1764100000013']);

    const { rows } = await env.db.query('SELECT student_id, members, similarities, bound_id, bound_similarity, owner_hash FROM student_neighbor_pools ORDER BY student_id');
    expect(rows).toEqual([
      { student_id: 'a', members: ['b', 'c', 'd'], similarities: [0.9, 0.5, 0.5], bound_id: 'x', bound_similarity: 0.1, owner_hash: 7 },
      { student_id: 'empty', members: [], similarities: [], bound_id: null, bound_similarity: null, owner_hash: 8 },
      { student_id: 'entries-only', members: ['a'], similarities: [0.3], bound_id: null, bound_similarity: null, owner_hash: 9 },
    ]);
    const { rows: tables } = await env.db.query("SELECT to_regclass('student_pool_entries') AS entries");
    expect(tables).toEqual([{ entries: null }]);
  });

  it('reads back exactly the pools it writes, and rewrites a pool whole', async () => {
    const written = new Map([
      ['p', { entries: [{ studentId: 'q', similarity: 0.30000000000000004 }, { studentId: 'r', similarity: -0.2 }], bound: { studentId: 's', similarity: -0.25 } }],
      ['lonely', { entries: [], bound: null }],
    ]);
    await dataSource.transaction((db) => pools.save(db, written));
    expect(await dataSource.transaction((db) => pools.load(db, ['p', 'lonely', 'nobody']))).toEqual(written);

    const rewritten = new Map([['p', { entries: [{ studentId: 'r', similarity: 0.7 }], bound: null }]]);
    await dataSource.transaction((db) => pools.save(db, rewritten));
    expect(await dataSource.transaction((db) => pools.load(db, ['p']))).toEqual(rewritten);
  });
});
