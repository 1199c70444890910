import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/** All SQL on similarity_rebuild_checkpoint (one row at most). */
@Injectable()
export class RebuildCheckpointRepository {
  async read(db: EntityManager): Promise<string | null> {
    const rows: { last_student_id: string }[] = await db.query('SELECT last_student_id FROM similarity_rebuild_checkpoint');
    return rows[0]?.last_student_id ?? null;
  }

  async write(db: EntityManager, lastStudentId: string): Promise<void> {
    await db.query(
      `INSERT INTO similarity_rebuild_checkpoint (id, last_student_id, started_at) VALUES (true, $1, now())
       ON CONFLICT (id) DO UPDATE SET last_student_id = EXCLUDED.last_student_id, updated_at = now()`,
      [lastStudentId],
    );
  }

  async clear(db: EntityManager): Promise<void> {
    await db.query('DELETE FROM similarity_rebuild_checkpoint');
  }
}
