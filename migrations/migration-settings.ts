import { configSchema } from '../src/config/app-config';

/** The few settings the schema depends on, read when a migration runs (not at import). */
export function migrationSettings() {
  const schema = configSchema.innerType().pick({ EMBEDDING_DIM: true, VECTOR_INDEX: true });
  const env = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== ''));
  return schema.parse(env);
}
