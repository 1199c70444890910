import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { TransactionRunner } from '../database/transaction-runner';
import { EmbeddingRepository } from './embedding.repository';
import { poolFromSearch, publicNeighbors } from './graph/neighbor-pool';
import { NeighborPoolRepository } from './neighbor-pool.repository';
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
 * graph transaction (it takes the same advisory lock as the worker), so a rebuild is safe while
 * workers run: a chunk sees vectors as they are, and the worker repairs what changes after.
 * A checkpoint after each chunk lets an interrupted rebuild resume.
 */
@Injectable()
export class GraphRebuilder {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly embeddings: EmbeddingRepository,
    private readonly pools: NeighborPoolRepository,
    private readonly similarities: SimilarityRepository,
    private readonly checkpoints: RebuildCheckpointRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async rebuild(options: RebuildOptions): Promise<{ rebuilt: number; removedOrphans: number; eventId: string }> {
    const { maxNeighbors: k, reserve, threshold, candidateSearch: mode } = this.config.graph;
    const capacity = k + reserve;
    const eventId = randomUUID();
    let after = options.resume ? await this.transactions.run((db) => this.checkpoints.read(db)) : null;
    const total = await this.transactions.run((db) => this.embeddings.count(db));
    let done = after === null ? 0 : await this.transactions.run((db) => this.embeddings.count(db, after!));
    let rebuilt = 0;
    for (;;) {
      const chunk = await this.transactions.run(async (db) => {
        await this.pools.lockGraph(db);
        const ids = await this.embeddings.idsAfter(db, after, options.chunkSize);
        if (ids.length === 0) return ids;
        const found = await this.embeddings.nearest(db, ids, { limit: capacity, threshold, mode });
        const pools = new Map(ids.map((id) => [id, poolFromSearch(found.get(id) ?? [], capacity, threshold)]));
        await this.pools.save(db, pools);
        await this.similarities.replaceLists(db, ids.map((id) => ({ studentId: id, eventId, neighbors: publicNeighbors(pools.get(id)!, k) })));
        await this.checkpoints.write(db, ids[ids.length - 1]);
        return ids;
      });
      if (chunk.length === 0) break;
      after = chunk[chunk.length - 1];
      rebuilt += chunk.length;
      done += chunk.length;
      options.onProgress?.({ done, total });
    }
    const removedOrphans = await this.transactions.run(async (db) => {
      await this.pools.lockGraph(db);
      const orphans = await this.pools.orphans(db);
      await this.pools.delete(db, orphans);
      await this.similarities.replaceLists(db, orphans.map((id) => ({ studentId: id, eventId, neighbors: [] })));
      await this.checkpoints.clear(db);
      return orphans.length;
    });
    return { rebuilt, removedOrphans, eventId };
  }
}
