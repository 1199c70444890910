import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each pool row and pool entry carries its owner's partition hash (toPositive(murmur2(owner)),
 * see src/kafka/partition-of-key.ts), written by the service, so that a partition's owner reads
 * only its own rows (`owner_hash % count = partition`) instead of every partition's and keeping
 * one in P. The hash does not depend on the partition count, so a re-partitioned topic needs no
 * rewrite. Rows written before this migration have none and are read as possibly anyone's (the
 * service sorts them out), until their pool is next written or the graph is rebuilt.
 */
export class PoolOwnerHash1764100000010 implements MigrationInterface {
  name = 'PoolOwnerHash1764100000010';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE student_neighbor_pools ADD COLUMN owner_hash integer');
    await db.query('ALTER TABLE student_pool_entries ADD COLUMN owner_hash integer');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE student_pool_entries DROP COLUMN owner_hash');
    await db.query('ALTER TABLE student_neighbor_pools DROP COLUMN owner_hash');
  }
}
