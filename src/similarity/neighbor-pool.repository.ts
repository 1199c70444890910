import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Neighbor } from './graph/neighbor';
import { NeighborPool } from './graph/neighbor-pool';
import { PoolOffer } from './graph/repair-pools';

interface PoolRow {
  student_id: string;
  /** [neighbor_ids, similarities, bound_id, bound_similarity] as one JSON value: node-postgres
   * parses JSON natively, while its text-array parser dominated batch time (thousands of pools). */
  pool: [string[], number[], string | null, number | null];
}

const POOL_COLUMNS = 'student_id, json_build_array(neighbor_ids, similarities, bound_id, bound_similarity) AS pool';

/**
 * Serialises all graph writers. One student's event can touch any other student's pool, so
 * pools cannot be partitioned by Kafka partition; a transaction-scoped advisory lock taken first
 * thing in every graph transaction means two workers never repair the same pool at once, never
 * deadlock (one lock, always taken first), and each sees the other's committed pools. Batching
 * amortises the wait: a worker holds the lock once per batch, not per event.
 */
const GRAPH_WRITE_LOCK = 0x53494d47; // "SIMG"

/**
 * The graph's SQL on student_neighbor_pools (the hidden exact top-(K + reserve) lists) and
 * student_pool_members; `report` reads them on its own.
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
      `SELECT ${POOL_COLUMNS} FROM student_neighbor_pools WHERE student_id = ANY($1::text[])`,
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
    const rows: PoolRow[] = await db.query(
      `SELECT ${POOL_COLUMNS} FROM student_neighbor_pools
        WHERE student_id IN (SELECT owner FROM student_pool_members WHERE member = ANY($1::text[])) AND student_id <> ALL($1::text[])`,
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
   * Writes pools and keeps student_pool_members in step. Where the caller knows a pool's
   * previous state, only the memberships that changed are written; otherwise the owner's
   * memberships are replaced.
   */
  async save(db: EntityManager, pools: Map<string, NeighborPool>, previous: ReadonlyMap<string, NeighborPool> = new Map()): Promise<void> {
    if (pools.size === 0) return;
    const records = [...pools].map(([studentId, pool]) => ({
      student_id: studentId,
      neighbor_ids: pool.entries.map((n) => n.studentId),
      similarities: pool.entries.map((n) => n.similarity),
      bound_id: pool.bound?.studentId ?? null,
      bound_similarity: pool.bound?.similarity ?? null,
    }));
    await db.query(
      `INSERT INTO student_neighbor_pools AS p (student_id, neighbor_ids, similarities, bound_id, bound_similarity, updated_at)
       SELECT student_id, neighbor_ids, similarities, bound_id, bound_similarity, now()
         FROM jsonb_to_recordset($1::jsonb) AS r(student_id text, neighbor_ids text[], similarities float8[], bound_id text, bound_similarity float8)
       ON CONFLICT (student_id) DO UPDATE SET neighbor_ids = EXCLUDED.neighbor_ids, similarities = EXCLUDED.similarities,
         bound_id = EXCLUDED.bound_id, bound_similarity = EXCLUDED.bound_similarity, updated_at = now()`,
      [JSON.stringify(records)],
    );
    const replaced = [...pools.keys()].filter((id) => !previous.has(id));
    const changes = [...pools].flatMap(([owner, pool]) => (previous.has(owner) ? [membershipChange(owner, previous.get(owner)!, pool)] : []));
    const dropped = changes.flatMap((c) => c.left.map((member) => [member, c.owner]));
    const added = [
      ...changes.flatMap((c) => c.joined.map((member) => [member, c.owner])),
      ...replaced.flatMap((owner) => pools.get(owner)!.entries.map((n) => [n.studentId, owner])),
    ];
    await this.deleteMembers(db, replaced);
    if (dropped.length > 0) {
      await db.query('DELETE FROM student_pool_members m USING unnest($1::text[], $2::text[]) AS d(member, owner) WHERE m.member = d.member AND m.owner = d.owner', [
        dropped.map(([member]) => member),
        dropped.map(([, owner]) => owner),
      ]);
    }
    if (added.length > 0) {
      await db.query('INSERT INTO student_pool_members (member, owner) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING', [
        added.map(([member]) => member),
        added.map(([, owner]) => owner),
      ]);
    }
  }

  /** Students who own a pool or pool memberships but whose embedding is gone (left while no event said so). */
  async orphans(db: EntityManager): Promise<string[]> {
    const rows: { student_id: string }[] = await db.query(
      `SELECT o.student_id FROM (SELECT student_id FROM student_neighbor_pools UNION SELECT owner FROM student_pool_members) o
        WHERE NOT EXISTS (SELECT 1 FROM student_embeddings e WHERE e.student_id = o.student_id)`,
    );
    return rows.map((r) => r.student_id);
  }

  /** Students with an embedding whose pool (its entries or its membership rows) holds a student without one. */
  async holdingMissing(db: EntityManager): Promise<string[]> {
    const rows: { student_id: string }[] = await db.query(
      `SELECT m.owner AS student_id FROM student_pool_members m
         JOIN student_embeddings o ON o.student_id = m.owner
         LEFT JOIN student_embeddings e ON e.student_id = m.member
        WHERE e.student_id IS NULL
       UNION
       SELECT p.student_id FROM student_neighbor_pools p
         JOIN student_embeddings o ON o.student_id = p.student_id
        WHERE EXISTS (SELECT 1 FROM unnest(p.neighbor_ids) AS n(id) WHERE NOT EXISTS (SELECT 1 FROM student_embeddings e WHERE e.student_id = n.id))`,
    );
    return rows.map((r) => r.student_id);
  }

  async delete(db: EntityManager, studentIds: string[]): Promise<void> {
    if (studentIds.length === 0) return;
    await db.query('DELETE FROM student_neighbor_pools WHERE student_id = ANY($1::text[])', [studentIds]);
    await this.deleteMembers(db, studentIds);
  }

  private async deleteMembers(db: EntityManager, owners: string[]): Promise<void> {
    if (owners.length === 0) return;
    await db.query('DELETE FROM student_pool_members WHERE owner = ANY($1::text[])', [owners]);
  }
}

function toPools(rows: PoolRow[]): Map<string, NeighborPool> {
  return new Map(
    rows.map(({ student_id, pool: [ids, similarities, boundId, boundSimilarity] }) => [
      student_id,
      {
        entries: ids.map((studentId, i) => ({ studentId, similarity: similarities[i] })),
        bound: boundId === null ? null : { studentId: boundId, similarity: boundSimilarity! },
      },
    ]),
  );
}

/** Members that joined and left a pool between two states of it. */
function membershipChange(owner: string, before: NeighborPool, after: NeighborPool): { owner: string; joined: string[]; left: string[] } {
  const was = new Set(before.entries.map((n) => n.studentId));
  const is = new Set(after.entries.map((n) => n.studentId));
  return { owner, joined: [...is].filter((id) => !was.has(id)), left: [...was].filter((id) => !is.has(id)) };
}
