import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A pool as one row again: its members and their similarities as arrays beside its bound, instead
 * of one student_pool_entries row per member. The entries became rows (migration 6) so that an
 * index on member could say which pools hold a student; each partition's owner now keeps that in
 * memory (migration 12 dropped the index), so a pool change can be one row update. The row's only
 * index is its primary key, which a pool change never touches: the update can stay on its page
 * (HOT), where an entry change inserted and deleted entry rows and their key entries.
 */
export class PoolsAsOneRow1764100000013 implements MigrationInterface {
  name = 'PoolsAsOneRow1764100000013';

  async up(db: QueryRunner): Promise<void> {
    await db.query("ALTER TABLE student_neighbor_pools ADD COLUMN members text[] NOT NULL DEFAULT '{}', ADD COLUMN similarities float8[] NOT NULL DEFAULT '{}'");
    // Room on each page for the next version of its rows, so that pool updates stay HOT.
    await db.query('ALTER TABLE student_neighbor_pools SET (fillfactor = 70)');
    await db.query(`
      INSERT INTO student_neighbor_pools AS p (student_id, owner_hash, members, similarities)
      SELECT owner, max(owner_hash), array_agg(member ORDER BY similarity DESC, member), array_agg(similarity ORDER BY similarity DESC, member)
        FROM student_pool_entries GROUP BY owner
      ON CONFLICT (student_id) DO UPDATE SET members = EXCLUDED.members, similarities = EXCLUDED.similarities`);
    await db.query('ALTER TABLE student_neighbor_pools ADD CONSTRAINT student_neighbor_pools_members_check CHECK (cardinality(members) = cardinality(similarities))');
    await db.query('DROP TABLE student_pool_entries');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE student_pool_entries (
        owner text NOT NULL,
        member text NOT NULL,
        similarity float8 NOT NULL,
        owner_hash integer,
        PRIMARY KEY (owner, member)
      ) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)`);
    await db.query(`
      INSERT INTO student_pool_entries (owner, member, similarity, owner_hash)
      SELECT p.student_id, e.member, e.similarity, p.owner_hash FROM student_neighbor_pools p, unnest(p.members, p.similarities) AS e(member, similarity)
      ON CONFLICT DO NOTHING`);
    await db.query('ALTER TABLE student_neighbor_pools DROP COLUMN members, DROP COLUMN similarities');
    await db.query('ALTER TABLE student_neighbor_pools SET (fillfactor = 90)');
  }
}
