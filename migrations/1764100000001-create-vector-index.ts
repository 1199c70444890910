import { MigrationInterface, QueryRunner } from 'typeorm';
import { ivfflatLists } from '../src/similarity/vector-index';
import { migrationSettings } from './migration-settings';

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
