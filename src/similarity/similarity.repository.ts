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

/** All SQL on student_similarity, the public graph that downstream readers use. */
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
    await db.query(
      `DELETE FROM student_similarity s
        WHERE s.a = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS n(a, b) WHERE n.a = s.a AND n.b = s.b)`,
      [lists.map((list) => list.studentId), a, b],
    );
    if (a.length === 0) return;
    await db.query(
      `INSERT INTO student_similarity AS s (a, b, sim, last_event, updated_at)
       SELECT a, b, sim, last_event, now() FROM unnest($1::text[], $2::text[], $3::real[], $4::uuid[]) AS n(a, b, sim, last_event)
       ON CONFLICT (a, b) DO UPDATE SET sim = EXCLUDED.sim, last_event = EXCLUDED.last_event, updated_at = now()
        WHERE s.sim IS DISTINCT FROM EXCLUDED.sim`,
      [a, b, sim, lastEvent],
    );
  }
}
