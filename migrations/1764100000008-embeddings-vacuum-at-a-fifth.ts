import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * student_embeddings is vacuumed when a fifth of its rows are dead (PostgreSQL's default), not
 * a fiftieth. Most of a vacuum of the HNSW index is a pass over the whole index, whatever the
 * number of dead rows: at 100,000 x 384, 32.7 s of CPU for 3,151 dead rows, 58.6 s for 20,058.
 * Under W1's churn the earlier trigger kept one core a third busy with vacuum; an index walk
 * with a fifth of its entries dead was 14% slower (2.38 against 2.08 ms), and lost no more walks.
 */
export class EmbeddingsVacuumAtAFifth1764100000008 implements MigrationInterface {
  name = 'EmbeddingsVacuumAtAFifth1764100000008';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE student_embeddings SET (autovacuum_vacuum_scale_factor = 0.2)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE student_embeddings SET (autovacuum_vacuum_scale_factor = 0.02)');
  }
}
