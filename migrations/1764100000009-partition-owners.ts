import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One writer per list: the owner of each partition of the event topic, and the epoch its last
 * take gave it. Every graph write transaction of a partition locks that partition's row first and
 * checks it is still the one its worker wrote, so a worker that lost the partition writes
 * nothing. The change log of the graph lock goes: every change now reaches the pools' owner as
 * a repair message, so no search needs to catch up with changes made since it ran.
 */
export class PartitionOwners1764100000009 implements MigrationInterface {
  name = 'PartitionOwners1764100000009';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE graph_partition_owners (
        partition int PRIMARY KEY,
        epoch bigint NOT NULL,
        member_id text NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query('DROP TABLE IF EXISTS student_graph_changes');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE student_graph_changes (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        student_id text NOT NULL
      ) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)`);
    await db.query('DROP TABLE IF EXISTS graph_partition_owners');
  }
}
