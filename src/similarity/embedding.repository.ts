import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { EmbeddingState } from './graph/event-decision';
import { Neighbor } from './graph/neighbor';
import { WalkCandidate } from './graph/repair-protocol';

/** A student's search: its nearest others with their embedding versions, and how far the search reached. */
export interface NearestWalk {
  /** Most similar first, each with the version of the embedding its similarity was computed from. */
  neighbors: WalkCandidate[];
  /** The similarity of the last student the search reached. */
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

/** Two students' usable vectors as one statement read them (see pairStates). */
export interface PairState {
  studentId: string;
  otherId: string;
  studentVersion: number | null;
  otherVersion: number | null;
  similarity: number | null;
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

  /** As `nearest`, each neighbour with the version of its embedding. */
  async nearestWithVersions(db: EntityManager, studentIds: string[], search: NeighborSearch): Promise<Map<string, WalkCandidate[]>> {
    if (studentIds.length === 0) return new Map();
    const rows: { student_id: string; neighbor_id: string; similarity: number; version: string }[] = await db.query(nearestSql(search.mode), [studentIds, search.limit, search.threshold]);
    const result = new Map<string, WalkCandidate[]>(studentIds.map((id) => [id, []]));
    for (const row of rows) result.get(row.student_id)!.push({ studentId: row.neighbor_id, similarity: Number(row.similarity), version: Number(row.version) });
    return result;
  }

  /**
   * Index mode: each student's nearest `search.limit` others by the vector index, with their
   * embedding versions, unfiltered: whose pool a student may enter is judged by that pool's
   * owner, never here (a bound read here may be lowered by a refill this reader cannot see).
   * The student itself is searched for too (and left out of the result), to tell whether the
   * walk reached it.
   */
  async walk(db: EntityManager, studentIds: string[], search: NeighborSearch): Promise<Map<string, NearestWalk>> {
    const result = new Map<string, NearestWalk>(studentIds.map((id) => [id, { neighbors: [], reach: search.threshold, reachedSelf: false }]));
    if (studentIds.length === 0) return result;
    const rows: { student_id: string; walk: [string[], number[], number[]]; reach: number }[] = await db.query(walkSql(), [studentIds, search.limit, search.threshold]);
    for (const { student_id, walk, reach } of rows) {
      const [ids, similarities, versions] = walk;
      const found = result.get(student_id)!;
      found.reach = Number(reach);
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] === student_id) found.reachedSelf = true;
        else found.neighbors.push({ studentId: ids[i], similarity: similarities[i], version: versions[i] });
      }
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

  /**
   * For each (student, other) pair: each side's embedding version where it has a usable vector
   * (null when it has none or an unusable one), and their similarity where both have. One
   * statement, so versions and similarities come from one snapshot and always agree.
   */
  async pairStates(db: EntityManager, pairs: { studentId: string; otherId: string }[], dimension: number): Promise<PairState[]> {
    if (pairs.length === 0) return [];
    const usable = (v: string) => `(${v}.student_id IS NOT NULL AND vector_dims(${v}.vec) = $3 AND vector_norm(${v}.vec) > 0)`;
    const rows: { student_id: string; other_id: string; student_version: string | null; other_version: string | null; similarity: number | null }[] = await db.query(
      `SELECT p.student_id, p.other_id,
              CASE WHEN ${usable('x')} THEN x.version END AS student_version,
              CASE WHEN ${usable('y')} THEN y.version END AS other_version,
              CASE WHEN ${usable('x')} AND ${usable('y')} THEN 1 - (x.vec <=> y.vec) END AS similarity
         FROM unnest($1::text[], $2::text[]) AS p(student_id, other_id)
         LEFT JOIN student_embeddings x ON x.student_id = p.student_id
         LEFT JOIN student_embeddings y ON y.student_id = p.other_id`,
      [pairs.map((p) => p.studentId), pairs.map((p) => p.otherId), dimension],
    );
    const version = (v: string | null) => (v === null ? null : Number(v));
    return rows.map((r) => ({
      studentId: r.student_id,
      otherId: r.other_id,
      studentVersion: version(r.student_version),
      otherVersion: version(r.other_version),
      similarity: r.similarity === null ? null : Number(r.similarity),
    }));
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
  return `SELECT q.id AS student_id, n.student_id AS neighbor_id, n.similarity, n.version
            FROM unnest($1::text[]) AS q(id)
            CROSS JOIN LATERAL (
              SELECT e.student_id, e.version, 1 - (e.vec <=> ${query}) AS similarity
                FROM student_embeddings e
               WHERE e.student_id <> q.id
                 AND (e.vec <=> ${query}) <= 1 - $3::float8
               ORDER BY ${order}
               LIMIT $2
            ) n`;
}

/**
 * The index search of nearestSql, with the student itself and how far the walk reached: one row
 * per student, its walk as one JSON value of parallel arrays (ids, similarities, versions), most
 * similar first. node-postgres parses JSON natively; a row per candidate was a tenth of the
 * worker's CPU in its row parser.
 */
function walkSql(): string {
  const query = '(SELECT vec FROM student_embeddings WHERE student_id = q.id)';
  const order = 'ORDER BY n.distance, n.student_id';
  return `SELECT q.id AS student_id,
                 json_build_array(array_agg(n.student_id ${order}), array_agg(1 - n.distance ${order}), array_agg(n.version ${order})) AS walk,
                 1 - max(n.distance) AS reach
            FROM unnest($1::text[]) AS q(id)
            CROSS JOIN LATERAL (
              SELECT e.student_id, e.version, e.vec <=> ${query} AS distance
                FROM student_embeddings e
               WHERE (e.vec <=> ${query}) <= 1 - $3::float8
               ORDER BY e.vec <=> ${query}
               LIMIT $2 + 1
            ) n
           GROUP BY q.id`;
}
