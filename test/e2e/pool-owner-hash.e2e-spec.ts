import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { partitionOfKey } from '../../src/kafka/partition-of-key';
import { NeighborPoolRepository } from '../../src/similarity/neighbor-pool.repository';
import { TestEnvironment } from '../support/harness';

describe("a partition's owner reads only its own pool rows (owner_hash on real PostgreSQL)", () => {
  const env = new TestEnvironment();
  const pools = new NeighborPoolRepository();
  const partitionCount = 3;
  const owners = Array.from({ length: 30 }, (_, i) => `owner-${i}`);
  const ownersOf = (partition: number) => owners.filter((o) => partitionOfKey(o, partitionCount) === partition);
  let dataSource: DataSource;

  beforeAll(async () => {
    await env.setUp(1);
    dataSource = await new DataSource(dataSourceOptions(loadConfig(env.env).database)).initialize();
    const pool = (member: string) => ({ entries: [{ studentId: member, similarity: 0.5 }], bound: null });
    await dataSource.transaction((db) => pools.save(db, new Map(owners.map((o) => [o, pool('m-1')]))));
    // A row written before owner_hash existed: it may be anyone's, so every partition reads it.
    await env.db.query(`INSERT INTO student_neighbor_pools (student_id, members, similarities) VALUES ('legacy-owner', '{m-1}', '{0.5}')`);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await env.tearDown();
  });

  it('membersOfPartition returns the pools of the partition and the rows without a hash, at any partition count', async () => {
    for (const count of [1, partitionCount, 7]) {
      for (let partition = 0; partition < count; partition++) {
        const rows = await dataSource.transaction((db) => pools.membersOfPartition(db, { partition, partitionCount: count }));
        const expected = owners.filter((o) => partitionOfKey(o, count) === partition);
        expect(rows.map((r) => r.owner).sort()).toEqual([...expected, 'legacy-owner'].sort());
        expect(rows.every((r) => r.members.length === 1 && r.members[0] === 'm-1')).toBe(true);
      }
    }
    expect(ownersOf(0).length).toBeGreaterThan(0);
  });

  it('every pool row the repository writes carries its owner hash', async () => {
    const { rows } = await env.db.query(`SELECT student_id FROM student_neighbor_pools WHERE owner_hash IS NULL`);
    expect(rows).toEqual([{ student_id: 'legacy-owner' }]);
  });
});
