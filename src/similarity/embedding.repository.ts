import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { EmbeddingState } from './graph/event-decision';
import { Neighbor } from './graph/neighbor';

/** A moved student's search: its own pool's candidates, and the pools further out it may enter. */
export interface NearestAndEntering {
  /** Most similar first: the nearest up to the pool's size, then only those whose pool it may enter. */
  neighbors: Neighbor[];
  /** The similarity of the last student the search reached: pools whose owner it reached were checked. */
  reach: number;
  /**
   * Whether the index walk reached the student itself (its own vector is in the index). A walk
   * that did not never got to the student's region, and its whole list is suspect.
   */
  reachedSelf: boolean;
}

export interface NeighborSearch {
  /** How many neighbours to return per student, at most. */
  limit: number;
  /** Lowest similarity returned. */
  threshold: number;
  /** exact: a full scan, ranked exactly; index: the vector index, approximate. */
  mode: 'exact' | 'index';
}

/** The graph's SQL on student_embeddings, vector searches included (verify streams them itself). */
@Injectable()
export class EmbeddingRepository {
  /** The declared dimension of the vector column; null when it declares none (`vector` without a size). */
  async columnDimension(db: EntityManager): Promise<number | null> {
    const [row]: { typmod: number }[] = await db.query(
      "SELECT atttypmod AS typmod FROM pg_attribute WHERE attrelid = 'student_embeddings'::regclass AND attname = 'vec' AND NOT attisdropped",
    );
    return row && row.typmod > 0 ? row.typmod : null;
  }

  /** The stored version of each student's embedding and whether its vector is usable. */
  async loadStates(db: EntityManager, studentIds: string[], dimension: number): Promise<Map<string, EmbeddingState>> {
    const rows: { student_id: string; version: string; defect: EmbeddingState['defect'] }[] = await db.query(
      `SELECT student_id, version,
              CASE WHEN vector_dims(vec) <> $2 THEN 'wrong dimension' WHEN vector_norm(vec) = 0 THEN 'zero vector' END AS defect
         FROM student_embeddings WHERE student_id = ANY($1::text[])`,
      [studentIds, dimension],
    );
    return new Map(rows.map((r) => [r.student_id, { studentId: r.student_id, version: Number(r.version), defect: r.defect }]));
  }

  /** Each student's nearest others (at most `limit`, at or above the threshold), most similar first. */
  async nearest(db: EntityManager, studentIds: string[], search: NeighborSearch): Promise<Map<string, Neighbor[]>> {
    if (studentIds.length === 0) return new Map();
    const rows: { student_id: string; neighbor_id: string; similarity: number }[] = await db.query(nearestSql(search.mode), [studentIds, search.limit, search.threshold]);
    const result = new Map<string, Neighbor[]>(studentIds.map((id) => [id, []]));
    for (const row of rows) result.get(row.student_id)!.push({ studentId: row.neighbor_id, similarity: Number(row.similarity) });
    return result;
  }

  /**
   * Index mode, for moved students: the nearest `search.limit` others, of which only the first
   * `poolSize` and those whose stored pool the student may enter (its similarity ranks at or
   * before the pool's bound, or the pool is complete) come back. The bound check runs here, next
   * to the index, so a search can reach far for reverse neighbours without sending every row to
   * the service; it reads bounds in the caller's snapshot, so the caller checks them again
   * under the graph lock. The student itself is searched for too (and left out of the result),
   * to tell whether the walk reached it.
   */
  async nearestAndEntering(db: EntityManager, studentIds: string[], search: NeighborSearch, poolSize: number): Promise<Map<string, NearestAndEntering>> {
    const result = new Map<string, NearestAndEntering>(studentIds.map((id) => [id, { neighbors: [], reach: search.threshold, reachedSelf: false }]));
    if (studentIds.length === 0) return result;
    const rows: { student_id: string; neighbor_id: string; similarity: number; reach: number }[] = await db.query(nearestAndEnteringSql(), [studentIds, search.limit, search.threshold, poolSize]);
    for (const row of rows) {
      const found = result.get(row.student_id)!;
      if (row.neighbor_id === row.student_id) {
        found.reachedSelf = true;
        continue;
      }
      found.neighbors.push({ studentId: row.neighbor_id, similarity: Number(row.similarity) });
      found.reach = Number(row.reach);
    }
    return result;
  }

  /** Up to `limit` student ids after `after` (null: from the start), in id order: for walking the table. */
  async idsAfter(db: EntityManager, after: string | null, limit: number): Promise<string[]> {
    const rows: { student_id: string }[] = await db.query(
      'SELECT student_id FROM student_embeddings WHERE $1::text IS NULL OR student_id > $1 ORDER BY student_id LIMIT $2',
      [after, limit],
    );
    return rows.map((r) => r.student_id);
  }

  /** How many students have an embedding (with an id up to `upTo`, when given). */
  async count(db: EntityManager, upTo: string | null = null): Promise<number> {
    const [{ count }] = await db.query('SELECT count(*)::int AS count FROM student_embeddings WHERE $1::text IS NULL OR student_id <= $1', [upTo]);
    return count;
  }

  /** Current similarity of each (student, other) pair; pairs with a missing student are left out. */
  async pairSimilarities(db: EntityManager, pairs: { studentId: string; otherId: string }[]): Promise<{ studentId: string; otherId: string; similarity: number }[]> {
    if (pairs.length === 0) return [];
    const rows: { student_id: string; other_id: string; similarity: number }[] = await db.query(
      `SELECT p.student_id, p.other_id, 1 - (x.vec <=> y.vec) AS similarity
         FROM unnest($1::text[], $2::text[]) AS p(student_id, other_id)
         JOIN student_embeddings x ON x.student_id = p.student_id
         JOIN student_embeddings y ON y.student_id = p.other_id`,
      [pairs.map((p) => p.studentId), pairs.map((p) => p.otherId)],
    );
    return rows.map((r) => ({ studentId: r.student_id, otherId: r.other_id, similarity: Number(r.similarity) }));
  }

  /** Deletes the rows of students who left, unless a newer version was written since. */
  async deleteUpTo(db: EntityManager, leaving: { studentId: string; version: number }[]): Promise<void> {
    if (leaving.length === 0) return;
    await db.query(
      `DELETE FROM student_embeddings e USING unnest($1::text[], $2::bigint[]) AS l(student_id, version)
        WHERE e.student_id = l.student_id AND e.version <= l.version`,
      [leaving.map((l) => l.studentId), leaving.map((l) => l.version)],
    );
  }
}

/**
 * The query vector is a scalar subquery, not a join, so that in index mode the planner can walk
 * the vector index (a join never can). Exact mode orders by similarity, which no vector index
 * provides, so it is always a full scan. The threshold is applied to the distance, not the
 * similarity, so the NaN distances of zero vectors never pass (NaN sorts above every number).
 * Exported so that a test can EXPLAIN the very query the service runs.
 */
export function nearestSql(mode: NeighborSearch['mode']): string {
  const query = '(SELECT vec FROM student_embeddings WHERE student_id = q.id)';
  const order = mode === 'exact' ? `1 - (e.vec <=> ${query}) DESC, e.student_id` : `e.vec <=> ${query}`;
  return `SELECT q.id AS student_id, n.student_id AS neighbor_id, n.similarity
            FROM unnest($1::text[]) AS q(id)
            CROSS JOIN LATERAL (
              SELECT e.student_id, 1 - (e.vec <=> ${query}) AS similarity
                FROM student_embeddings e
               WHERE e.student_id <> q.id
                 AND (e.vec <=> ${query}) <= 1 - $3::float8
               ORDER BY ${order}
               LIMIT $2
            ) n`;
}

/** The index search of nearestSql, ranked and with the student itself, each row beyond the pool's size kept only where it may enter the owner's pool. */
function nearestAndEnteringSql(): string {
  const query = '(SELECT vec FROM student_embeddings WHERE student_id = q.id)';
  return `SELECT q.id AS student_id, n.student_id AS neighbor_id, n.similarity, n.reach
            FROM unnest($1::text[]) AS q(id)
            CROSS JOIN LATERAL (
              SELECT s.student_id, 1 - s.distance AS similarity, row_number() OVER (ORDER BY s.distance, s.student_id) AS rank, 1 - max(s.distance) OVER () AS reach
                FROM (SELECT e.student_id, e.vec <=> ${query} AS distance
                        FROM student_embeddings e
                       WHERE (e.vec <=> ${query}) <= 1 - $3::float8
                       ORDER BY e.vec <=> ${query}
                       LIMIT $2 + 1) s
            ) n
            LEFT JOIN student_neighbor_pools p ON p.student_id = n.student_id
           WHERE n.rank <= $4 + 1 OR n.student_id = q.id OR (p.student_id IS NOT NULL AND n.similarity >= greatest($3::float8, coalesce(p.bound_similarity, $3::float8)))
           ORDER BY q.id, n.rank`;
}
