import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AdminConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TransactionRunner } from '../database/transaction-runner';
import { EmbeddingRepository } from './embedding.repository';
import { poolFromSearch, publicNeighbors } from './graph/neighbor-pool';
import { NeighborPoolRepository } from './neighbor-pool.repository';
import { PartitionOwnerRepository } from './partition-owner.repository';
import { PoolSearch } from './pool-search';
import { RebuildCheckpointRepository } from './rebuild-checkpoint.repository';
import { SimilarityRepository } from './similarity.repository';

export interface RebuildProgress {
  done: number;
  total: number;
}

export interface RebuildOptions {
  /** Students per transaction. */
  chunkSize: number;
  /** Continue after the last checkpoint instead of starting over. */
  resume: boolean;
  onProgress?: (progress: RebuildProgress) => void;
}

/**
 * Recomputes every student's pool and public list from scratch, in chunks. Each chunk is one
 * graph transaction that first locks every partition's owner row (in partition order, as no
 * worker transaction locks more than one): the workers' transactions wait for the chunk, nobody
 * is fenced, and a chunk sees vectors as they are; what changes after is announced and repaired.
 * A checkpoint after each chunk lets an interrupted rebuild resume. Last, nothing may refer to a
 * student without an embedding: such students' rows go, and pools or lists that name one are
 * searched again.
 */
@Injectable()
export class GraphRebuilder {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly embeddings: EmbeddingRepository,
    private readonly pools: NeighborPoolRepository,
    private readonly poolSearch: PoolSearch,
    private readonly similarities: SimilarityRepository,
    private readonly checkpoints: RebuildCheckpointRepository,
    private readonly owners: PartitionOwnerRepository,
    @Inject(APP_CONFIG) private readonly config: Pick<AdminConfig, 'graph'>,
  ) {}

  async rebuild(options: RebuildOptions): Promise<{ rebuilt: number; removedOrphans: number; searchedAgain: number; eventId: string }> {
    const eventId = randomUUID();
    let after = options.resume ? await this.transactions.run((db) => this.checkpoints.read(db)) : null;
    const total = await this.transactions.run((db) => this.embeddings.count(db));
    let done = after === null ? 0 : await this.transactions.run((db) => this.embeddings.count(db, after!));
    let rebuilt = 0;
    for (;;) {
      const chunk = await this.transactions.run(async (db) => {
        await this.owners.lockAllToRewritePools(db);
        const ids = await this.embeddings.idsAfter(db, after, options.chunkSize);
        await this.rebuildStudents(db, ids, eventId);
        if (ids.length > 0) await this.checkpoints.write(db, ids[ids.length - 1]);
        return ids;
      });
      if (chunk.length === 0) break;
      after = chunk[chunk.length - 1];
      rebuilt += chunk.length;
      done += chunk.length;
      options.onProgress?.({ done, total });
    }
    // Students who left while no event said so (or while this rebuild ran) may still own rows,
    // and may still be named in pools and lists that this run did not rebuild (--resume).
    const { removedOrphans, naming } = await this.transactions.run(async (db) => {
      await this.owners.lockAllToRewritePools(db);
      const lists = await this.similarities.atMissingStudents(db);
      const orphans = [...new Set([...(await this.pools.orphans(db)), ...lists.left])];
      await this.pools.delete(db, orphans);
      await this.similarities.replaceLists(db, orphans.map((id) => ({ studentId: id, eventId, neighbors: [] })));
      return { removedOrphans: orphans.length, naming: [...new Set([...(await this.pools.holdingMissing(db)), ...lists.naming])] };
    });
    for (let start = 0; start < naming.length; start += options.chunkSize) {
      await this.transactions.run(async (db) => {
        await this.owners.lockAllToRewritePools(db);
        await this.rebuildStudents(db, naming.slice(start, start + options.chunkSize), eventId);
      });
    }
    await this.transactions.run((db) => this.checkpoints.clear(db));
    return { rebuilt, removedOrphans, searchedAgain: naming.length, eventId };
  }

  /** A fresh search, pool and public list for each of the given students (who have an embedding). */
  private async rebuildStudents(db: EntityManager, ids: string[], eventId: string): Promise<void> {
    if (ids.length === 0) return;
    const { maxNeighbors: k, reserve, threshold, candidateSearch: mode } = this.config.graph;
    const capacity = k + reserve;
    const { found } = await this.poolSearch.search(db, ids, { mode, threshold, poolSize: capacity, reach: capacity });
    const pools = new Map(ids.map((id) => [id, poolFromSearch(found.get(id)?.neighbors ?? [], capacity, threshold)]));
    await this.pools.save(db, pools);
    await this.similarities.replaceLists(db, ids.map((id) => ({ studentId: id, eventId, neighbors: publicNeighbors(pools.get(id)!, k) })));
  }
}
