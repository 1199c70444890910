import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { compareNeighbors, Neighbor } from './graph/neighbor';
import { NeighborPool, poolChange } from './graph/neighbor-pool';
import { PoolOffer } from './graph/repair-pools';

interface PoolRow {
  student_id: string;
  bound_id: string | null;
  bound_similarity: number | null;
  /** [members, similarities] as one JSON value: node-postgres parses JSON natively, while its
   * text-array parser dominated batch time (thousands of pools). */
  entries: [string[] | null, number[] | null] | null;
}

const POOL_COLUMNS = `p.student_id, p.bound_id, p.bound_similarity,
  (SELECT json_build_array(array_agg(e.member), array_agg(e.similarity)) FROM student_pool_entries e WHERE e.owner = p.student_id) AS entries`;

/**
 * Serialises all graph writers. One student's event can touch any other student's pool, so
 * pools cannot be partitioned by Kafka partition; a transaction-scoped advisory lock taken first
 * thing in every graph transaction means two workers never repair the same pool at once, never
 * deadlock (one lock, always taken first), and each sees the other's committed pools. Batching
 * amortises the wait: a worker holds the lock once per batch, not per event.
 */
const GRAPH_WRITE_LOCK = 0x53494d47; // "SIMG"

/**
 * The graph's SQL on the hidden exact top-(K + reserve) lists: student_neighbor_pools (one row
 * per pool, with its bound) and student_pool_entries (one row per member); `report` reads them on its own.
 */
@Injectable()
export class NeighborPoolRepository {
  async lockGraph(db: EntityManager): Promise<void> {
    await db.query('SELECT pg_advisory_xact_lock($1)', [GRAPH_WRITE_LOCK]);
  }

  /** Pools of the given students (those without a pool are not in the graph yet). */
  async load(db: EntityManager, studentIds: string[]): Promise<Map<string, NeighborPool>> {
    if (studentIds.length === 0) return new Map();
    const rows: PoolRow[] = await db.query(
      `SELECT ${POOL_COLUMNS} FROM student_neighbor_pools p WHERE p.student_id = ANY($1::text[])`,
      [studentIds],
    );
    return toPools(rows);
  }

  /** The bounds of the given students' pools; students without a pool are left out. */
  async loadBounds(db: EntityManager, studentIds: string[]): Promise<Map<string, Neighbor | null>> {
    if (studentIds.length === 0) return new Map();
    const rows: { student_id: string; bound_id: string | null; bound_similarity: number | null }[] = await db.query(
      'SELECT student_id, bound_id, bound_similarity FROM student_neighbor_pools WHERE student_id = ANY($1::text[])',
      [studentIds],
    );
    return new Map(rows.map((r) => [r.student_id, r.bound_id === null ? null : { studentId: r.bound_id, similarity: r.bound_similarity! }]));
  }

  /** Pools, other than the changed students' own, that hold any of the changed students. */
  async loadHolding(db: EntityManager, changedIds: string[]): Promise<Map<string, NeighborPool>> {
    if (changedIds.length === 0) return new Map();
    // The holders as one array: joined instead, the planner hashed every pool row and
    // compared each with the changed ids (half of this query's time at 100,000 students).
    const rows: PoolRow[] = await db.query(
      `SELECT ${POOL_COLUMNS} FROM student_neighbor_pools p
        WHERE p.student_id = ANY(ARRAY(SELECT DISTINCT owner FROM student_pool_entries WHERE member = ANY($1::text[]) AND owner <> ALL($1::text[])))`,
      [changedIds],
    );
    return toPools(rows);
  }

  /**
   * Exact reverse search: for each moved student A, every pooled student X (not among the
   * changed) that A might now enter, i.e. whose similarity to A reaches X's bound (or the
   * threshold, for a complete pool). One pass over all pools for the whole batch.
   */
  async exactReverseOffers(db: EntityManager, movedIds: string[], changedIds: string[], threshold: number): Promise<PoolOffer[]> {
    if (movedIds.length === 0) return [];
    const rows: { student_id: string; candidate_id: string; similarity: number }[] = await db.query(
      `SELECT p.student_id, q.student_id AS candidate_id, 1 - (e.vec <=> q.vec) AS similarity
         FROM student_neighbor_pools p
         JOIN student_embeddings e ON e.student_id = p.student_id
         CROSS JOIN (SELECT student_id, vec FROM student_embeddings WHERE student_id = ANY($1::text[])) q
        WHERE p.student_id <> ALL($2::text[])
          AND (e.vec <=> q.vec) <= 1 - greatest($3::float8, coalesce(p.bound_similarity, $3::float8))`,
      [movedIds, changedIds, threshold],
    );
    return rows.map((r) => ({ studentId: r.student_id, candidate: { studentId: r.candidate_id, similarity: Number(r.similarity) } }));
  }

  /**
   * Reverse search through the graph: for each moved student, the pools that hold one of its
   * seeds (its nearest students) and that it may now enter. Only pools whose bound is at or
   * below `reach` (the last similarity its own search returned) are looked at: a pool with a
   * higher bound can take it only if that search found the pool's owner. The bound is checked
   * here, where the vectors are, so only offers that may enter travel back.
   */
  async reverseOffersThroughSeeds(db: EntityManager, seeds: { candidateId: string; seedId: string; reach: number }[], threshold: number): Promise<PoolOffer[]> {
    if (seeds.length === 0) return [];
    // The candidates' vectors are read once; each pool owner's vector by its key. Joined
    // directly, the planner sorted thousands of whole vectors for a merge join.
    const rows: { student_id: string; candidate_id: string; similarity: number }[] = await db.query(
      `WITH c AS MATERIALIZED (
         SELECT DISTINCT s.candidate_id, e.owner, greatest($4::float8, coalesce(p.bound_similarity, $4::float8)) AS bound
           FROM unnest($1::text[], $2::text[], $3::float8[]) AS s(candidate_id, seed_id, reach)
           JOIN student_pool_entries e ON e.member = s.seed_id
           JOIN student_neighbor_pools p ON p.student_id = e.owner
          WHERE e.owner <> s.candidate_id AND coalesce(p.bound_similarity, $4::float8) <= s.reach),
       y AS MATERIALIZED (SELECT student_id, vec FROM student_embeddings WHERE student_id = ANY($1::text[]))
       SELECT c.owner AS student_id, c.candidate_id, 1 - d.distance AS similarity
         FROM c JOIN y ON y.student_id = c.candidate_id
         CROSS JOIN LATERAL (SELECT (SELECT x.vec FROM student_embeddings x WHERE x.student_id = c.owner) <=> y.vec AS distance) d
        WHERE d.distance <= 1 - c.bound`,
      [seeds.map((s) => s.candidateId), seeds.map((s) => s.seedId), seeds.map((s) => s.reach), threshold],
    );
    return rows.map((r) => ({ studentId: r.student_id, candidate: { studentId: r.candidate_id, similarity: Number(r.similarity) } }));
  }

  /**
   * Catching up with students that changed after a search: for each searched student A (whose
   * pool's bound similarity is `reach`) and each changed student X that still has an embedding,
   * their current similarity where it may matter: X may enter A's pool, or A may enter X's (the
   * bound of X's stored pool, or the threshold for a complete one). The bounds are checked here,
   * where the vectors are, so only pairs that may enter travel back.
   */
  async catchUpPairs(db: EntityManager, searched: { studentId: string; reach: number }[], changedIds: string[], threshold: number): Promise<{ studentId: string; otherId: string; similarity: number }[]> {
    if (searched.length === 0 || changedIds.length === 0) return [];
    const rows: { student_id: string; other_id: string; similarity: number }[] = await db.query(
      `SELECT a.student_id, x.student_id AS other_id, 1 - (x.vec <=> a.vec) AS similarity
         FROM unnest($1::text[], $2::float8[]) AS s(student_id, reach)
         JOIN student_embeddings a ON a.student_id = s.student_id
         JOIN student_embeddings x ON x.student_id = ANY($3::text[]) AND x.student_id <> s.student_id
         LEFT JOIN student_neighbor_pools p ON p.student_id = x.student_id
        WHERE (x.vec <=> a.vec) <= 1 - greatest($4::float8, least(s.reach, coalesce(p.bound_similarity, $4::float8)))`,
      [searched.map((s) => s.studentId), searched.map((s) => s.reach), changedIds, threshold],
    );
    return rows.map((r) => ({ studentId: r.student_id, otherId: r.other_id, similarity: Number(r.similarity) }));
  }

  /**
   * Writes pools. Where the caller knows a pool's previous state, only the entries and bounds
   * that changed are written; otherwise the owner's entries are replaced.
   */
  async save(db: EntityManager, pools: Map<string, NeighborPool>, previous: ReadonlyMap<string, NeighborPool> = new Map()): Promise<void> {
    if (pools.size === 0) return;
    const changes = [...pools].map(([owner, pool]) => ({ owner, bound: pool.bound, ...poolChange(previous.get(owner) ?? null, pool) }));
    const bounds = changes.filter((c) => c.boundChanged);
    const removals = changes.flatMap((c) => c.removals.map((member) => [c.owner, member] as const));
    const upserts = changes.flatMap((c) => c.upserts.map((n) => [c.owner, n] as const));
    await this.deleteEntriesOf(db, changes.filter((c) => c.replaced).map((c) => c.owner));
    if (bounds.length > 0) {
      await db.query(
        `INSERT INTO student_neighbor_pools AS p (student_id, bound_id, bound_similarity, updated_at)
         SELECT student_id, bound_id, bound_similarity, now() FROM unnest($1::text[], $2::text[], $3::float8[]) AS r(student_id, bound_id, bound_similarity)
         ON CONFLICT (student_id) DO UPDATE SET bound_id = EXCLUDED.bound_id, bound_similarity = EXCLUDED.bound_similarity, updated_at = now()`,
        [bounds.map((c) => c.owner), bounds.map((c) => c.bound?.studentId ?? null), bounds.map((c) => c.bound?.similarity ?? null)],
      );
    }
    if (removals.length > 0) {
      await db.query('DELETE FROM student_pool_entries e USING unnest($1::text[], $2::text[]) AS d(owner, member) WHERE e.owner = d.owner AND e.member = d.member', [
        removals.map(([owner]) => owner),
        removals.map(([, member]) => member),
      ]);
    }
    if (upserts.length > 0) {
      await db.query(
        `INSERT INTO student_pool_entries AS e (owner, member, similarity) SELECT * FROM unnest($1::text[], $2::text[], $3::float8[])
         ON CONFLICT (owner, member) DO UPDATE SET similarity = EXCLUDED.similarity`,
        [upserts.map(([owner]) => owner), upserts.map(([, n]) => n.studentId), upserts.map(([, n]) => n.similarity)],
      );
    }
  }

  /** Students who own a pool or pool entries but whose embedding is gone (left while no event said so). */
  async orphans(db: EntityManager): Promise<string[]> {
    const rows: { student_id: string }[] = await db.query(
      `SELECT o.student_id FROM (SELECT student_id FROM student_neighbor_pools UNION SELECT owner FROM student_pool_entries) o
        WHERE NOT EXISTS (SELECT 1 FROM student_embeddings e WHERE e.student_id = o.student_id)`,
    );
    return rows.map((r) => r.student_id);
  }

  /** Students with an embedding whose pool holds a student without one. */
  async holdingMissing(db: EntityManager): Promise<string[]> {
    const rows: { student_id: string }[] = await db.query(
      `SELECT DISTINCT m.owner AS student_id FROM student_pool_entries m
         JOIN student_embeddings o ON o.student_id = m.owner
         LEFT JOIN student_embeddings e ON e.student_id = m.member
        WHERE e.student_id IS NULL`,
    );
    return rows.map((r) => r.student_id);
  }

  async delete(db: EntityManager, studentIds: string[]): Promise<void> {
    if (studentIds.length === 0) return;
    await db.query('DELETE FROM student_neighbor_pools WHERE student_id = ANY($1::text[])', [studentIds]);
    await this.deleteEntriesOf(db, studentIds);
  }

  private async deleteEntriesOf(db: EntityManager, owners: string[]): Promise<void> {
    if (owners.length === 0) return;
    await db.query('DELETE FROM student_pool_entries WHERE owner = ANY($1::text[])', [owners]);
  }
}

function toPools(rows: PoolRow[]): Map<string, NeighborPool> {
  return new Map(
    rows.map(({ student_id, bound_id, bound_similarity, entries }) => {
      // An empty pool (no one above the threshold) aggregates to [null, null].
      const [members, similarities] = entries ?? [null, null];
      return [
        student_id,
        {
          entries: (members ?? []).map((studentId, i) => ({ studentId, similarity: similarities![i] })).sort(compareNeighbors),
          bound: bound_id === null ? null : { studentId: bound_id, similarity: bound_similarity! },
        },
      ];
    }),
  );
}
