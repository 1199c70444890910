import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who holds whom is no longer read per batch: each partition's owner keeps its holder index in
 * memory and reads it once per take by owner_hash, which scans the table. Nothing reads
 * student_pool_entries by member any more, so its member index only cost every entry write (and
 * the vacuum of its dead entries).
 */
export class DropPoolMemberIndex1764100000012 implements MigrationInterface {
  name = 'DropPoolMemberIndex1764100000012';

  async up(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX IF EXISTS student_pool_entries_member_idx');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('CREATE INDEX IF NOT EXISTS student_pool_entries_member_idx ON student_pool_entries (member)');
  }
}
