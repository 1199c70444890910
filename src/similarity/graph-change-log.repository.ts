import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/**
 * How many of the latest changes the log keeps. A batch whose search is older than that
 * searches again under the lock instead of catching up.
 */
export const CHANGES_KEPT = 200_000;

/** The graph's SQL on student_graph_changes: the students each graph transaction changed, in commit order. */
@Injectable()
export class GraphChangeLogRepository {
  /** The position of the last change this transaction's snapshot sees. */
  async position(db: EntityManager): Promise<number> {
    const [{ seq }] = await db.query('SELECT coalesce(max(seq), 0)::text AS seq FROM student_graph_changes');
    return Number(seq);
  }

  /** Students changed after `position`; null when the log no longer reaches back that far. */
  async changedSince(db: EntityManager, position: number): Promise<Set<string> | null> {
    if (position < (await this.position(db)) - CHANGES_KEPT) return null;
    const rows: { student_id: string }[] = await db.query('SELECT DISTINCT student_id FROM student_graph_changes WHERE seq > $1', [position]);
    return new Set(rows.map((r) => r.student_id));
  }

  /** Appends this transaction's changed students (under the graph lock) and drops what is no longer kept. */
  async record(db: EntityManager, studentIds: string[]): Promise<void> {
    if (studentIds.length === 0) return;
    await db.query('INSERT INTO student_graph_changes (student_id) SELECT unnest($1::text[])', [studentIds]);
    await db.query('DELETE FROM student_graph_changes WHERE seq <= (SELECT max(seq) FROM student_graph_changes) - $1', [CHANGES_KEPT]);
  }
}
