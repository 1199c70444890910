import { EntityManager } from 'typeorm';
import { Neighbor } from '../similarity/graph/neighbor';

/** Stored vectors in student id order, decoded but not normalised. */
export interface VectorPage {
  ids: string[];
  vectors: Float32Array[];
}

/**
 * The read-only queries behind `verify`. Vectors travel in pgvector's binary form (vector_send:
 * a 4-byte header, then big-endian float4s), which decodes about eight times faster than the
 * text form and allocates no intermediate strings or number arrays.
 */
export class VerificationRepository {
  /** How many students have an embedding, and the dimension of the first vector (0 when none). */
  async census(db: EntityManager): Promise<{ students: number; dimension: number }> {
    const [row]: { students: number; dimension: number | null }[] = await db.query(
      `SELECT (SELECT count(*) FROM student_embeddings)::int AS students,
              (SELECT vector_dims(vec) FROM student_embeddings ORDER BY student_id LIMIT 1) AS dimension`,
    );
    return { students: row.students, dimension: row.dimension ?? 0 };
  }

  /** The ids at the given 0-based ranks of the student id order, in that order. */
  async idsAtRanks(db: EntityManager, ranks: number[]): Promise<string[]> {
    if (ranks.length === 0) return [];
    const rows: { student_id: string }[] = await db.query(
      `SELECT student_id FROM (SELECT student_id, row_number() OVER (ORDER BY student_id) - 1 AS rank FROM student_embeddings) ranked
        WHERE rank = ANY($1::bigint[]) ORDER BY student_id`,
      [ranks],
    );
    return rows.map((r) => r.student_id);
  }

  /** Up to `limit` vectors after `after` (null: from the start), in student id order: for walking the table. */
  async vectorsAfter(db: EntityManager, after: string | null, limit: number): Promise<VectorPage> {
    const rows: { student_id: string; vec: Buffer }[] = await db.query(
      'SELECT student_id, vector_send(vec) AS vec FROM student_embeddings WHERE $1::text IS NULL OR student_id > $1 ORDER BY student_id LIMIT $2',
      [after, limit],
    );
    return toPage(rows);
  }

  /** The vectors of the given students that have one, in student id order. */
  async vectorsOf(db: EntityManager, studentIds: string[]): Promise<VectorPage> {
    if (studentIds.length === 0) return { ids: [], vectors: [] };
    const rows: { student_id: string; vec: Buffer }[] = await db.query(
      'SELECT student_id, vector_send(vec) AS vec FROM student_embeddings WHERE student_id = ANY($1::text[]) ORDER BY student_id',
      [studentIds],
    );
    return toPage(rows);
  }

  /** The stored lists of the given students, most similar first; students without rows are left out. */
  async storedLists(db: EntityManager, studentIds: string[]): Promise<Map<string, Neighbor[]>> {
    const lists = new Map<string, Neighbor[]>();
    if (studentIds.length === 0) return lists;
    const rows: { a: string; b: string; sim: number }[] = await db.query(
      'SELECT a, b, sim FROM student_similarity WHERE a = ANY($1::text[]) ORDER BY a, sim DESC, b',
      [studentIds],
    );
    for (const row of rows) {
      if (!lists.has(row.a)) lists.set(row.a, []);
      lists.get(row.a)!.push({ studentId: row.b, similarity: Number(row.sim) });
    }
    return lists;
  }

  /** Rows of student_similarity that start or end at a student without an embedding. */
  async orphanRows(db: EntityManager): Promise<number> {
    const [{ count }] = await db.query(
      `SELECT count(*)::int AS count FROM student_similarity s
         LEFT JOIN student_embeddings ea ON ea.student_id = s.a
         LEFT JOIN student_embeddings eb ON eb.student_id = s.b
        WHERE ea.student_id IS NULL OR eb.student_id IS NULL`,
    );
    return count;
  }
}

function toPage(rows: { student_id: string; vec: Buffer }[]): VectorPage {
  return { ids: rows.map((r) => r.student_id), vectors: rows.map((r) => fromVectorSend(r.vec)) };
}

/** Decodes pgvector's binary form: int16 dimension, int16 unused, then the float4s, big-endian. */
export function fromVectorSend(bytes: Buffer): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vector = new Float32Array(view.getUint16(0));
  for (let i = 0; i < vector.length; i++) vector[i] = view.getFloat32(4 + 4 * i);
  return vector;
}
