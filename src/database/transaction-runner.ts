import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AdminConfig, WIDEST_HNSW_EF_SEARCH } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/**
 * The one place that opens transactions. Vector search parameters are set with SET LOCAL inside
 * each transaction, so they never leak to other users of a pooled connection.
 */
@Injectable()
export class TransactionRunner {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: Pick<AdminConfig, 'vectors'>,
  ) {}

  async run<T>(work: (db: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (db) => {
      await this.setSearchParameters(db);
      return work(db);
    });
  }

  /** A read-only transaction whose statements all see one snapshot. */
  async readSnapshot<T>(work: (db: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction('REPEATABLE READ', async (db) => {
      await db.query('SET TRANSACTION READ ONLY');
      await this.setSearchParameters(db);
      return work(db);
    });
  }

  /** Whether an index walk can be made wider than the configured one (HNSW below its widest). */
  get canWidenIndexWalk(): boolean {
    const { index, hnswEfSearch } = this.config.vectors;
    return index === 'hnsw' && hnswEfSearch < WIDEST_HNSW_EF_SEARCH;
  }

  /** Runs `work` inside the caller's transaction with HNSW's widest walk, then restores the configured one. */
  async withWidestIndexWalk<T>(db: EntityManager, work: () => Promise<T>): Promise<T> {
    await db.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [String(WIDEST_HNSW_EF_SEARCH)]);
    const result = await work();
    await db.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [String(this.config.vectors.hnswEfSearch)]);
    return result;
  }

  private async setSearchParameters(db: EntityManager): Promise<void> {
    const { index, hnswEfSearch, ivfflatProbes } = this.config.vectors;
    if (index === 'hnsw') {
      await db.query(`SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'strict_order', true)`, [String(hnswEfSearch)]);
    } else if (index === 'ivfflat' && ivfflatProbes) {
      await db.query(`SELECT set_config('ivfflat.probes', $1, true), set_config('ivfflat.iterative_scan', 'relaxed_order', true)`, [String(ivfflatProbes)]);
    }
  }
}
