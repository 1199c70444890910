import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which students each graph transaction changed, in commit order (rows are written under the
 * graph lock). A batch searches its students' new neighbours before it takes the lock; once it
 * holds the lock, the students changed since its search are the ones it must catch up with.
 */
export class GraphChangeLog1764100000007 implements MigrationInterface {
  name = 'GraphChangeLog1764100000007';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE student_graph_changes (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        student_id text NOT NULL
      ) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS student_graph_changes');
  }
}
