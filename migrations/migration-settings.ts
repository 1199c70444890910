import { AppConfig } from '../src/config/app-config';

let settings: { EMBEDDING_DIM: number; VECTOR_INDEX: AppConfig['vectors']['index'] } | null = null;

/** Called by runMigrations with the process's config, before any migration runs. */
export function useMigrationSettings(vectors: Pick<AppConfig['vectors'], 'dimension' | 'index'>): void {
  settings = { EMBEDDING_DIM: vectors.dimension, VECTOR_INDEX: vectors.index };
}

/** The few settings the schema depends on, as runMigrations handed them over. */
export function migrationSettings(): NonNullable<typeof settings> {
  if (!settings) throw new Error('migrations run through runMigrations(config) (npm run migrate), which hands them the vector settings');
  return settings;
}
