import { ConfigValidationError, loadAdminConfig, loadConfig } from '../../src/config/app-config';

const database = { DB_URL: 'postgres://user:secret@db:5432/app' };

describe('loadAdminConfig', () => {
  it('needs no Kafka or HTTP settings, and ignores bad ones', () => {
    const config = loadAdminConfig({ ...database, KAFKA_BROKERS: 'no-port', KAFKA_SESSION_TIMEOUT_MS: 'soon', HTTP_PORT: 'eighty', OPERATOR_TOKEN: 'short' });
    expect(Object.keys(config).sort()).toEqual(['database', 'graph', 'vectors']);
    expect(config.database.url).toBe(database.DB_URL);
  });

  it('reads the database, graph and vector settings as loadConfig does', () => {
    const env = { ...database, DB_SSL: 'true', MAX_NEIGHBORS: '12', SIMILARITY_THRESHOLD: '0.3', EMBEDDING_DIM: '64', VECTOR_INDEX: 'none', IVFFLAT_PROBES: '7' };
    const { database: db, graph, vectors, kafka } = loadConfig({ ...env, KAFKA_BROKERS: 'kafka:9092' });
    expect(kafka.brokers).toEqual(['kafka:9092']);
    expect(loadAdminConfig(env)).toEqual({ database: db, graph, vectors });
  });

  it('still names every bad setting it reads', () => {
    expect(() => loadAdminConfig({ MAX_NEIGHBORS: 'many' })).toThrow(ConfigValidationError);
    expect(() => loadAdminConfig({ MAX_NEIGHBORS: 'many' })).toThrow(/DB_URL[\s\S]*MAX_NEIGHBORS/);
  });
});
