import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which pools hold a student, as rows instead of a GIN index over the pool arrays: rewriting a
 * pool re-inserted all of its GIN entries (7x the cost of the row write, measured), while most
 * rewrites only re-score members. Only memberships that change are written here.
 */
export class PoolMembersTable1764100000005 implements MigrationInterface {
  name = 'PoolMembersTable1764100000005';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE student_pool_members (
        member text NOT NULL,
        owner text NOT NULL,
        PRIMARY KEY (member, owner)
      ) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)`);
    await db.query('CREATE INDEX student_pool_members_owner_idx ON student_pool_members (owner)');
    await db.query('INSERT INTO student_pool_members (member, owner) SELECT DISTINCT unnest(neighbor_ids), student_id FROM student_neighbor_pools');
    await db.query('DROP INDEX IF EXISTS student_neighbor_pools_neighbors_idx');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('CREATE INDEX student_neighbor_pools_neighbors_idx ON student_neighbor_pools USING gin (neighbor_ids)');
    await db.query('DROP TABLE IF EXISTS student_pool_members');
  }
}
