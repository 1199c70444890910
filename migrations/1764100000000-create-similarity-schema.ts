import { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSettings } from './migration-settings';

export class CreateSimilaritySchema1764100000000 implements MigrationInterface {
  name = 'CreateSimilaritySchema1764100000000';

  async up(db: QueryRunner): Promise<void> {
    const { EMBEDDING_DIM } = migrationSettings();
    await db.query('CREATE EXTENSION IF NOT EXISTS vector');
    // Owned upstream (the embedding worker writes it); created here for development and tests.
    await db.query(`
      CREATE TABLE IF NOT EXISTS student_embeddings (
        student_id text PRIMARY KEY,
        vec vector(${Number(EMBEDDING_DIM)}) NOT NULL,
        version bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Every event rewrites neighbour rows: leave room for HOT updates and vacuum early.
    await db.query(`
      CREATE TABLE student_similarity (
        a text NOT NULL,
        b text NOT NULL,
        sim real NOT NULL,
        last_event uuid NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (a, b),
        CHECK (a <> b),
        CHECK (sim >= -1 AND sim <= 1)
      ) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)`);
    await db.query('CREATE INDEX student_similarity_b_idx ON student_similarity (b)');
    await db.query(`ALTER TABLE student_embeddings SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS student_similarity');
  }
}
