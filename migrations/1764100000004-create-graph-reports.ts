import { MigrationInterface, QueryRunner } from 'typeorm';

/** Saved `report` outputs, so each report can be compared with the previous one. */
export class CreateGraphReports1764100000004 implements MigrationInterface {
  name = 'CreateGraphReports1764100000004';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE similarity_graph_reports (
        id bigserial PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        report jsonb NOT NULL
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS similarity_graph_reports');
  }
}
