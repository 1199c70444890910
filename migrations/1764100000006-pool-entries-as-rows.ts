import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pool entries as rows `(owner, member, similarity)` instead of arrays on the pool row plus a
 * separate membership table. A repair now writes only the entries that change (measured at
 * 100,000 students: whole-pool rewrites and membership rows were 30% of a batch's statement
 * time), and the index on `member` is the reverse lookup "which pools hold this student".
 * The pool row keeps only the bound.
 */
export class PoolEntriesAsRows1764100000006 implements MigrationInterface {
  name = 'PoolEntriesAsRows1764100000006';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE student_pool_entries (
        owner text NOT NULL,
        member text NOT NULL,
        similarity float8 NOT NULL,
        PRIMARY KEY (owner, member)
      ) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)`);
    await db.query('CREATE INDEX student_pool_entries_member_idx ON student_pool_entries (member)');
    await db.query(`
      INSERT INTO student_pool_entries (owner, member, similarity)
      SELECT p.student_id, e.member, e.similarity FROM student_neighbor_pools p, unnest(p.neighbor_ids, p.similarities) AS e(member, similarity)
      ON CONFLICT DO NOTHING`);
    await db.query('DROP TABLE student_pool_members');
    await db.query('ALTER TABLE student_neighbor_pools DROP COLUMN neighbor_ids, DROP COLUMN similarities');
    await db.query('ALTER TABLE student_neighbor_pools SET (fillfactor = 90)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query("ALTER TABLE student_neighbor_pools ADD COLUMN neighbor_ids text[] NOT NULL DEFAULT '{}', ADD COLUMN similarities float8[] NOT NULL DEFAULT '{}'");
    await db.query(`
      UPDATE student_neighbor_pools p SET neighbor_ids = e.ids, similarities = e.sims
        FROM (SELECT owner, array_agg(member ORDER BY similarity DESC, member) AS ids, array_agg(similarity ORDER BY similarity DESC, member) AS sims
                FROM student_pool_entries GROUP BY owner) e
       WHERE e.owner = p.student_id`);
    await db.query('CREATE TABLE student_pool_members (member text NOT NULL, owner text NOT NULL, PRIMARY KEY (member, owner))');
    await db.query('CREATE INDEX student_pool_members_owner_idx ON student_pool_members (owner)');
    await db.query('INSERT INTO student_pool_members (member, owner) SELECT member, owner FROM student_pool_entries');
    await db.query('DROP TABLE student_pool_entries');
  }
}
