import pgvector from 'pgvector';

/** Anything that runs a parameterised query: a pg Client or Pool, or a TypeORM EntityManager. */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * Writes embeddings as the upstream producer does before it announces them (the service itself
 * only reads student_embeddings): insert, or replace the vector and version of a student already there.
 */
export async function writeEmbeddings(db: Queryable, embeddings: { studentId: string; vector: ArrayLike<number>; version: number }[]): Promise<void> {
  if (embeddings.length === 0) return;
  await db.query(
    `INSERT INTO student_embeddings (student_id, vec, version, updated_at)
     SELECT id, vec::vector, version, now() FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(id, vec, version)
     ON CONFLICT (student_id) DO UPDATE SET vec = EXCLUDED.vec, version = EXCLUDED.version, updated_at = now()`,
    [embeddings.map((e) => e.studentId), embeddings.map((e) => pgvector.toSql(Array.from(e.vector))), embeddings.map((e) => e.version)],
  );
}
