import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { PartitionOwnership as OwnerRow } from './graph/repair-protocol';

interface OwnerRecord {
  partition: number;
  epoch: string;
  member_id: string;
  pools_revision: string;
}

/** The owner row as a write transaction locked it: the take, and how often a rebuild rewrote the pools. */
export interface LockedOwnerRow extends OwnerRow {
  poolsRevision: number;
}

const OWNER_COLUMNS = 'partition, epoch, member_id, pools_revision';

/** The graph's SQL on graph_partition_owners: who writes each partition's lists, and since which take. */
@Injectable()
export class PartitionOwnerRepository {
  /** Takes the partition for `memberId`: the next epoch (1 for a partition nobody took yet), whoever held it. */
  async take(db: EntityManager, partition: number, memberId: string): Promise<number> {
    const [row]: { epoch: string }[] = await db.query(
      `INSERT INTO graph_partition_owners AS o (partition, epoch, member_id, taken_at) VALUES ($1, 1, $2, now())
       ON CONFLICT (partition) DO UPDATE SET epoch = o.epoch + 1, member_id = EXCLUDED.member_id, taken_at = now()
       RETURNING epoch`,
      [partition, memberId],
    );
    return Number(row.epoch);
  }

  /**
   * The partition's owner row, locked until the transaction ends, if no other transaction holds
   * it: 'held elsewhere' then, without waiting (SKIP LOCKED); undefined when nobody took it.
   */
  async lockForWriteIfFree(db: EntityManager, partition: number): Promise<LockedOwnerRow | 'held elsewhere' | undefined> {
    const rows: OwnerRecord[] = await db.query(`SELECT ${OWNER_COLUMNS} FROM graph_partition_owners WHERE partition = $1 FOR UPDATE SKIP LOCKED`, [partition]);
    if (rows.length > 0) return toOwnerRow(rows[0]);
    const [exists]: unknown[] = await db.query('SELECT 1 FROM graph_partition_owners WHERE partition = $1', [partition]);
    return exists ? 'held elsewhere' : undefined;
  }

  /** The partition's owner row, locked until the transaction ends (a take-over waits for it); undefined when nobody took it. */
  async lockForWrite(db: EntityManager, partition: number): Promise<LockedOwnerRow | undefined> {
    const rows: OwnerRecord[] = await db.query(`SELECT ${OWNER_COLUMNS} FROM graph_partition_owners WHERE partition = $1 FOR UPDATE`, [partition]);
    return rows.map(toOwnerRow)[0];
  }

  /**
   * Locks every partition's owner row, in partition order, for a transaction that rewrites any
   * partition's pools: the partitions' write transactions wait until it ends, nobody is fenced
   * (the epochs do not move), and the raised pools_revision tells each owner that its in-memory
   * holder index no longer holds.
   */
  async lockAllToRewritePools(db: EntityManager): Promise<void> {
    await db.query(
      `UPDATE graph_partition_owners o SET pools_revision = o.pools_revision + 1
         FROM (SELECT partition FROM graph_partition_owners ORDER BY partition FOR UPDATE) l WHERE l.partition = o.partition`,
    );
  }
}

function toOwnerRow(row: OwnerRecord): LockedOwnerRow {
  return { partition: Number(row.partition), epoch: Number(row.epoch), memberId: row.member_id, poolsRevision: Number(row.pools_revision) };
}
