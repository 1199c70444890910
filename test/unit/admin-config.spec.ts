import { ConfigValidationError, loadAdminConfig, loadConfig } from '../../src/config/app-config';

const database = { DB_URL: 'postgres://user:secret@db:5432/app' };

describe('loadAdminConfig', () => {
  it('needs no Kafka settings, and ignores bad ones', () => {
    const config = loadAdminConfig({ ...database, KAFKA_BROKERS: 'no-port', KAFKA_SESSION_TIMEOUT_MS: 'soon' });
    expect(config).not.toHaveProperty('kafka');
    expect(config.database.url).toBe(database.DB_URL);
  });

  it('reads every other setting as loadConfig does', () => {
    const env = { ...database, MAX_NEIGHBORS: '12', SIMILARITY_THRESHOLD: '0.3', EMBEDDING_DIM: '64', VECTOR_INDEX: 'none', RETRY_MAX_ATTEMPTS: '3' };
    const { kafka, ...rest } = loadConfig({ ...env, KAFKA_BROKERS: 'kafka:9092' });
    expect(kafka.brokers).toEqual(['kafka:9092']);
    expect(loadAdminConfig(env)).toEqual(rest);
  });

  it('still names every bad setting it reads', () => {
    expect(() => loadAdminConfig({ MAX_NEIGHBORS: 'many' })).toThrow(ConfigValidationError);
    expect(() => loadAdminConfig({ MAX_NEIGHBORS: 'many' })).toThrow(/DB_URL[\s\S]*MAX_NEIGHBORS/);
  });
});
