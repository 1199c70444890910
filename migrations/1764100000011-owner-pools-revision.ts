import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each partition's owner keeps the partition's holder index (who holds whom) in memory, built
 * once per take and kept by its own writes. A rebuild rewrites every partition's pools without a
 * take; it raises every owner row's pools_revision, and an owner whose index was built at another
 * revision reads it again.
 */
export class OwnerPoolsRevision1764100000011 implements MigrationInterface {
  name = 'OwnerPoolsRevision1764100000011';

  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE graph_partition_owners ADD COLUMN pools_revision bigint NOT NULL DEFAULT 0');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE graph_partition_owners DROP COLUMN pools_revision');
  }
}
