import { MigrationInterface, QueryRunner } from 'typeorm';

/** Where an interrupted `rebuild` resumes: the last student whose pool it rebuilt. */
export class CreateRebuildCheckpoint1764100000003 implements MigrationInterface {
  name = 'CreateRebuildCheckpoint1764100000003';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE similarity_rebuild_checkpoint (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        last_student_id text NOT NULL,
        started_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS similarity_rebuild_checkpoint');
  }
}
