import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { StudentSimilarity } from './entities/student-similarity.entity';
import { Neighbor } from './graph/neighbor';

/** A student's complete new neighbour list and the event that caused it. */
export interface NeighborListWrite {
  studentId: string;
  neighbors: Neighbor[];
  eventId: string;
}

/** The rows of one student's list that change: written (new or re-scored) or dropped. */
export interface NeighborListChange {
  studentId: string;
  upserts: Neighbor[];
  removals: string[];
  eventId: string;
}

/**
 * The graph's SQL on student_similarity, the public graph downstream readers use: the worker's
 * writes and the read API's lookups. Whole-table reads for `report` and `verify` live beside them.
 */
@Injectable()
export class SimilarityRepository {
  constructor(@InjectRepository(StudentSimilarity) private readonly edges: Repository<StudentSimilarity>) {}

  /** A student's stored neighbours, most similar first. */
  async neighborsOf(studentId: string, db?: EntityManager): Promise<Neighbor[]> {
    const repository = db ? db.getRepository(StudentSimilarity) : this.edges;
    const rows = await repository.find({ where: { studentId }, order: { similarity: 'DESC', neighborId: 'ASC' } });
    return rows.map((row) => ({ studentId: row.neighborId, similarity: row.similarity }));
  }

  /**
   * Students whose rows start or end at a student without an embedding: `left` have none
   * themselves; `naming` have one but list a student who has none.
   */
  async atMissingStudents(db: EntityManager): Promise<{ left: string[]; naming: string[] }> {
    const rows: { student_id: string; gone: boolean }[] = await db.query(
      `SELECT DISTINCT s.a AS student_id, ea.student_id IS NULL AS gone
         FROM student_similarity s
         LEFT JOIN student_embeddings ea ON ea.student_id = s.a
         LEFT JOIN student_embeddings eb ON eb.student_id = s.b
        WHERE ea.student_id IS NULL OR eb.student_id IS NULL`,
    );
    return { left: rows.filter((r) => r.gone).map((r) => r.student_id), naming: rows.filter((r) => !r.gone).map((r) => r.student_id) };
  }

  /**
   * Replaces the lists of the given students with the given ones, touching only rows that change:
   * rows that left are deleted, new or re-scored rows are upserted, unchanged rows are left alone
   * (no dead tuple, and their last_event keeps naming the event that last wrote them).
   */
  async replaceLists(db: EntityManager, lists: NeighborListWrite[]): Promise<void> {
    if (lists.length === 0) return;
    const a: string[] = [];
    const b: string[] = [];
    const sim: number[] = [];
    const lastEvent: string[] = [];
    for (const list of lists) {
      for (const neighbor of list.neighbors) {
        a.push(list.studentId);
        b.push(neighbor.studentId);
        sim.push(neighbor.similarity);
        lastEvent.push(list.eventId);
      }
    }
    // One statement: the rows it deletes are exactly those it does not upsert.
    await db.query(
      `WITH dropped AS (
         DELETE FROM student_similarity s
          WHERE s.a = ANY($1::text[])
            AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS n(a, b) WHERE n.a = s.a AND n.b = s.b)
       )
       ${upsertRowsSql('$2', '$3', '$4', '$5')}`,
      [lists.map((list) => list.studentId), a, b, sim, lastEvent],
    );
  }

  /**
   * Applies known changes to lists whose current rows the caller knows (the repaired lists of a
   * batch): only the rows that change are sent, not whole lists.
   */
  async applyChanges(db: EntityManager, changes: NeighborListChange[]): Promise<void> {
    const dropped = changes.flatMap((c) => c.removals.map((b) => [c.studentId, b]));
    const written = changes.flatMap((c) => c.upserts.map((n) => ({ a: c.studentId, n, eventId: c.eventId })));
    if (dropped.length + written.length === 0) return;
    // One statement: a list's removals and upserts never name the same neighbour.
    await db.query(
      `WITH dropped AS (
         DELETE FROM student_similarity s USING unnest($1::text[], $2::text[]) AS d(a, b) WHERE s.a = d.a AND s.b = d.b
       )
       ${upsertRowsSql('$3', '$4', '$5', '$6')}`,
      [dropped.map(([a]) => a), dropped.map(([, b]) => b), written.map((w) => w.a), written.map((w) => w.n.studentId), written.map((w) => w.n.similarity), written.map((w) => w.eventId)],
    );
  }
}

/** Upserts rows (a, b, sim, last_event) given as parallel arrays, leaving a row whose similarity is unchanged alone. */
function upsertRowsSql(a: string, b: string, sim: string, lastEvent: string): string {
  return `INSERT INTO student_similarity AS s (a, b, sim, last_event, updated_at)
          SELECT a, b, sim, last_event, now() FROM unnest(${a}::text[], ${b}::text[], ${sim}::real[], ${lastEvent}::uuid[]) AS n(a, b, sim, last_event)
          ON CONFLICT (a, b) DO UPDATE SET sim = EXCLUDED.sim, last_event = EXCLUDED.last_event, updated_at = now()
           WHERE s.sim IS DISTINCT FROM EXCLUDED.sim`;
}
