import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { keyHash } from '../kafka/partition-of-key';
import { compareNeighbors } from './graph/neighbor';
import { NeighborPool } from './graph/neighbor-pool';

interface PoolRow {
  student_id: string;
  bound_id: string | null;
  bound_similarity: number | null;
  /** [members, similarities] as one JSON value: node-postgres parses JSON natively, while its
   * text-array parser dominated batch time (thousands of pools). */
  entries: [string[], number[]];
}

/** A pool owner and a student that may be offered to its pool. */
export interface OwnerAndSubject {
  owner: string;
  subject: string;
}

/** One partition of the event topic, as its owner reads its own rows. */
export interface OwnPartition {
  partition: number;
  partitionCount: number;
}

/** Rows of the partition, and rows written before owner_hash existed (the caller sorts those out). */
const OF_PARTITION = (alias: string, count: string, partition: string) => `(${alias}.owner_hash IS NULL OR ${alias}.owner_hash % ${count}::int = ${partition}::int)`;

/** The pre-filters against pool bounds keep a little more than the pool rules would take: a superset is harmless, a float rounding that drops an entrant is not. */
const ENTRY_MARGIN = 1e-9;

const POOL_COLUMNS = 'p.student_id, p.bound_id, p.bound_similarity, json_build_array(p.members, p.similarities) AS entries';

/**
 * The graph's SQL on the hidden exact top-(K + reserve) lists: student_neighbor_pools, one row per
 * pool (its members and their similarities as arrays, and its bound); `report` reads it on its own.
 */
@Injectable()
export class NeighborPoolRepository {
  /** Pools of the given students (those without a pool are not in the graph yet). */
  async load(db: EntityManager, studentIds: string[]): Promise<Map<string, NeighborPool>> {
    if (studentIds.length === 0) return new Map();
    const rows: PoolRow[] = await db.query(
      `SELECT ${POOL_COLUMNS} FROM student_neighbor_pools p WHERE p.student_id = ANY($1::text[])`,
      [studentIds],
    );
    return toPools(rows);
  }

  /**
   * Every non-empty pool of the partition with its members (and any pool without an owner hash: the
   * caller sorts those out), to build the partition's holder index once per take.
   */
  async membersOfPartition(db: EntityManager, own: OwnPartition): Promise<{ owner: string; members: string[] }[]> {
    return db.query(
      `SELECT p.student_id AS owner, to_json(p.members) AS members FROM student_neighbor_pools p WHERE ${OF_PARTITION('p', '$1', '$2')} AND cardinality(p.members) > 0`,
      [own.partitionCount, own.partition],
    );
  }

  /**
   * Exact mode: for each subject, every pool of the partition (but its own, and with any pool
   * without an owner hash) that the subject's CURRENT vector may
   * enter by the pool's CURRENT bound (or the threshold, for a complete pool). One pass over all
   * pools for the whole batch; read by the pools' owner in its write transaction, so no bound can
   * move between this read and the judgement.
   */
  async poolsSubjectsMayEnter(db: EntityManager, subjectIds: string[], threshold: number, own: OwnPartition): Promise<OwnerAndSubject[]> {
    if (subjectIds.length === 0) return [];
    return db.query(
      `SELECT p.student_id AS owner, q.student_id AS subject
         FROM student_neighbor_pools p
         JOIN student_embeddings e ON e.student_id = p.student_id
         CROSS JOIN (SELECT student_id, vec FROM student_embeddings WHERE student_id = ANY($1::text[])) q
        WHERE p.student_id <> q.student_id
          AND ${OF_PARTITION('p', '$3', '$4')}
          AND 1 - (e.vec <=> q.vec) >= greatest($2::float8, coalesce(p.bound_similarity, $2::float8)) - ${ENTRY_MARGIN}`,
      [subjectIds, threshold, own.partitionCount, own.partition],
    );
  }

  /**
   * Index mode: of the given (pool owner, subject) offers, those where the subject's CURRENT
   * vector may enter the pool by its CURRENT bound; read, like the exact scan, by the pools' owner.
   */
  async offersThatMayEnter(db: EntityManager, offers: OwnerAndSubject[], threshold: number): Promise<OwnerAndSubject[]> {
    if (offers.length === 0) return [];
    return db.query(
      `SELECT o.owner, o.subject
         FROM unnest($1::text[], $2::text[]) AS o(owner, subject)
         JOIN student_neighbor_pools p ON p.student_id = o.owner
         JOIN student_embeddings e ON e.student_id = o.owner
         JOIN student_embeddings q ON q.student_id = o.subject
        WHERE 1 - (e.vec <=> q.vec) >= greatest($3::float8, coalesce(p.bound_similarity, $3::float8)) - ${ENTRY_MARGIN}`,
      [offers.map((o) => o.owner), offers.map((o) => o.subject), threshold],
    );
  }

  /** Writes each given pool whole: one row per pool, with its owner's hash. */
  async save(db: EntityManager, pools: ReadonlyMap<string, NeighborPool>): Promise<void> {
    if (pools.size === 0) return;
    const rows = [...pools].map(([owner, pool]) => ({
      student_id: owner,
      members: pool.entries.map((n) => n.studentId),
      similarities: pool.entries.map((n) => n.similarity),
      bound_id: pool.bound?.studentId ?? null,
      bound_similarity: pool.bound?.similarity ?? null,
      owner_hash: keyHash(owner),
    }));
    await db.query(
      `INSERT INTO student_neighbor_pools AS p (student_id, members, similarities, bound_id, bound_similarity, owner_hash, updated_at)
       SELECT r.*, now() FROM json_to_recordset($1::json) AS r(student_id text, members text[], similarities float8[], bound_id text, bound_similarity float8, owner_hash int)
       ON CONFLICT (student_id) DO UPDATE SET members = EXCLUDED.members, similarities = EXCLUDED.similarities, bound_id = EXCLUDED.bound_id,
         bound_similarity = EXCLUDED.bound_similarity, owner_hash = EXCLUDED.owner_hash, updated_at = now()`,
      [JSON.stringify(rows)],
    );
  }

  /** Students who own a pool but whose embedding is gone (left while no event said so). */
  async orphans(db: EntityManager): Promise<string[]> {
    const rows: { student_id: string }[] = await db.query(
      `SELECT p.student_id FROM student_neighbor_pools p WHERE NOT EXISTS (SELECT 1 FROM student_embeddings e WHERE e.student_id = p.student_id)`,
    );
    return rows.map((r) => r.student_id);
  }

  /** Students with an embedding whose pool holds a student without one. */
  async holdingMissing(db: EntityManager): Promise<string[]> {
    const rows: { student_id: string }[] = await db.query(
      `SELECT DISTINCT p.student_id FROM student_neighbor_pools p
         JOIN student_embeddings o ON o.student_id = p.student_id
         CROSS JOIN LATERAL unnest(p.members) AS m(member)
         LEFT JOIN student_embeddings e ON e.student_id = m.member
        WHERE e.student_id IS NULL`,
    );
    return rows.map((r) => r.student_id);
  }

  async delete(db: EntityManager, studentIds: string[]): Promise<void> {
    if (studentIds.length === 0) return;
    await db.query('DELETE FROM student_neighbor_pools WHERE student_id = ANY($1::text[])', [studentIds]);
  }
}

function toPools(rows: PoolRow[]): Map<string, NeighborPool> {
  return new Map(
    rows.map(({ student_id, bound_id, bound_similarity, entries }) => {
      const [members, similarities] = entries;
      return [
        student_id,
        {
          entries: members.map((studentId, i) => ({ studentId, similarity: similarities[i] })).sort(compareNeighbors),
          bound: bound_id === null ? null : { studentId: bound_id, similarity: bound_similarity! },
        },
      ];
    }),
  );
}
