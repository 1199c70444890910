import { DataSource } from 'typeorm';
import type { AppConfig } from '../src/config/app-config';
import type * as DataSourceOptionsModule from '../src/database/data-source-options';
import type * as TransactionRunnerModule from '../src/database/transaction-runner';
import type * as EmbeddingRepositoryModule from '../src/similarity/embedding.repository';
import type * as NeighborPoolRepositoryModule from '../src/similarity/neighbor-pool.repository';
import { builtModule, ServiceBuild } from './worker-process';

export interface BatchProfile {
  batchSize: number;
  mode: AppConfig['graph']['candidateSearch'];
  /** Wall time of each of the service's reads for one batch of that size, in ms. */
  stepsMs: { step: string; ms: number }[];
}

/**
 * Times the built service's own repository calls (its SQL, not a copy) for one batch of
 * `studentIds` on the current state: the reads that dominate a batch. Read-only: nothing is written.
 */
export async function profileBatchReads(build: ServiceBuild, config: AppConfig, studentIds: string[]): Promise<BatchProfile> {
  const { dataSourceOptions } = builtModule<typeof DataSourceOptionsModule>(build, 'src/database/data-source-options');
  const { TransactionRunner } = builtModule<typeof TransactionRunnerModule>(build, 'src/database/transaction-runner');
  const { EmbeddingRepository } = builtModule<typeof EmbeddingRepositoryModule>(build, 'src/similarity/embedding.repository');
  const { NeighborPoolRepository } = builtModule<typeof NeighborPoolRepositoryModule>(build, 'src/similarity/neighbor-pool.repository');
  const dataSource = await new DataSource(dataSourceOptions(config.database)).initialize();
  const embeddings = new EmbeddingRepository();
  const pools = new NeighborPoolRepository();
  const { candidateSearch: mode, maxNeighbors, reserve, threshold, reverseCandidates } = config.graph;
  const capacity = maxNeighbors + reserve;
  const limit = mode === 'exact' ? capacity : Math.max(capacity, reverseCandidates);
  const stepsMs: BatchProfile['stepsMs'] = [];
  const step = async (name: string, work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    stepsMs.push({ step: name, ms: performance.now() - started });
  };
  try {
    await new TransactionRunner(dataSource, config).run(async (db) => {
      await step('load embedding states', () => embeddings.loadStates(db, studentIds, config.vectors.dimension));
      // The moved students' search as the service runs it (older builds, via --service-commit, have only `nearest`).
      const search = { limit, threshold, mode };
      const ownSearch = mode === 'index' && 'nearestAndEntering' in embeddings ? () => embeddings.nearestAndEntering(db, studentIds, search, capacity) : () => embeddings.nearest(db, studentIds, search);
      await step(`own pools: nearest ${limit} (${mode} search)`, ownSearch);
      await step('pools holding the changed students', () => pools.loadHolding(db, studentIds));
      if (mode === 'exact') await step('exact reverse offers (scan of all pools)', () => pools.exactReverseOffers(db, studentIds, studentIds, threshold));
    });
  } finally {
    await dataSource.destroy();
  }
  return { batchSize: studentIds.length, mode, stepsMs };
}
