/**
 * The few settings the schema depends on, stated here rather than borrowed from the application's
 * config types, so that a migration's output never changes when src/ does.
 */
export interface MigrationSettings {
  EMBEDDING_DIM: number;
  VECTOR_INDEX: 'hnsw' | 'ivfflat' | 'none';
}

let settings: MigrationSettings | null = null;

/** Called by runMigrations with the process's config, before any migration runs. */
export function useMigrationSettings(vectors: { dimension: number; index: MigrationSettings['VECTOR_INDEX'] }): void {
  settings = { EMBEDDING_DIM: vectors.dimension, VECTOR_INDEX: vectors.index };
}

/** The settings as runMigrations handed them over. */
export function migrationSettings(): MigrationSettings {
  if (!settings) throw new Error('migrations run through runMigrations(config) (npm run migrate), which hands them the vector settings');
  return settings;
}
