import { MigrationInterface, QueryRunner } from 'typeorm';
import { migrationSettings } from './migration-settings';

/**
 * IVFFlat list count from pgvector's guidance at the time of this migration: rows / 1000 up to
 * 1M rows, sqrt(rows) above. Stated here, not imported, so the index this migration builds stays
 * what it was when it was applied.
 */
export function ivfflatLists(rows: number): number {
  if (rows <= 1_000_000) return Math.max(1, Math.round(rows / 1000));
  return Math.round(Math.sqrt(rows));
}

export class CreateVectorIndex1764100000001 implements MigrationInterface {
  name = 'CreateVectorIndex1764100000001';

  async up(db: QueryRunner): Promise<void> {
    const { VECTOR_INDEX } = migrationSettings();
    if (VECTOR_INDEX === 'hnsw') {
      await db.query('CREATE INDEX IF NOT EXISTS student_embeddings_vec_idx ON student_embeddings USING hnsw (vec vector_cosine_ops) WITH (m = 16, ef_construction = 64)');
    } else if (VECTOR_INDEX === 'ivfflat') {
      const [{ count }] = await db.query('SELECT count(*)::int AS count FROM student_embeddings');
      await db.query(`CREATE INDEX IF NOT EXISTS student_embeddings_vec_idx ON student_embeddings USING ivfflat (vec vector_cosine_ops) WITH (lists = ${ivfflatLists(count)})`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX IF EXISTS student_embeddings_vec_idx');
  }
}
