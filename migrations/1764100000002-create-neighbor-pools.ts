import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hidden per-student state behind the public graph: an exact top-(K + reserve) pool and its
 * bound, so that most repairs need no new search. Readers never see it.
 */
export class CreateNeighborPools1764100000002 implements MigrationInterface {
  name = 'CreateNeighborPools1764100000002';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE student_neighbor_pools (
        student_id text PRIMARY KEY,
        neighbor_ids text[] NOT NULL,
        similarities float8[] NOT NULL,
        bound_id text,
        bound_similarity float8,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (cardinality(neighbor_ids) = cardinality(similarities)),
        CHECK ((bound_id IS NULL) = (bound_similarity IS NULL))
      ) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)`);
    // Finds every pool that holds a changed student.
    await db.query('CREATE INDEX student_neighbor_pools_neighbors_idx ON student_neighbor_pools USING gin (neighbor_ids)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE IF EXISTS student_neighbor_pools');
  }
}
