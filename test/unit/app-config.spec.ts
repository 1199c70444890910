import { ConfigValidationError, loadConfig } from '../../src/config/app-config';

const minimal = { DB_URL: 'postgres://user:secret@db:5432/app', KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092' };

/** The message of the ConfigValidationError the environment causes; fails the test if there is none. */
function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(minimal);
    expect(config.kafka).toMatchObject({ brokers: ['kafka-1:9092', 'kafka-2:9092'], groupId: 'similarity_worker', topic: 'student_embedding_events', deadLetterTopic: 'student_embedding_events.dlq' });
    expect(config.graph).toMatchObject({ threshold: 0.1, maxNeighbors: 15 });
    expect(config.vectors).toMatchObject({ dimension: 384, index: 'hnsw' });
  });

  it('accepts a negative threshold, since cosine similarity lies in [-1, 1]', () => {
    expect(loadConfig({ ...minimal, SIMILARITY_THRESHOLD: '-0.5' }).graph.threshold).toBe(-0.5);
  });

  it('names every bad variable in one error', () => {
    const message = configError({ DB_URL: 'mysql://x', KAFKA_BROKERS: 'no-port', SIMILARITY_THRESHOLD: '1.5', MAX_NEIGHBORS: '0', EMBEDDING_DIM: 'many', HTTP_PORT: '70000' });
    for (const name of ['DB_URL', 'KAFKA_BROKERS', 'SIMILARITY_THRESHOLD', 'MAX_NEIGHBORS', 'EMBEDDING_DIM', 'HTTP_PORT']) expect(message).toContain(name);
  });

  it('reports missing required variables', () => {
    expect(() => loadConfig({})).toThrow(/DB_URL[\s\S]*KAFKA_BROKERS/);
  });

  it('requires SASL credentials with a SASL mechanism, and never echoes the password', () => {
    expect(() => loadConfig({ ...minimal, KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/KAFKA_SASL_USERNAME/);
    const message = configError({ ...minimal, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'hunter2', MAX_NEIGHBORS: 'x' });
    expect(message).toContain('MAX_NEIGHBORS');
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('secret');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ ...minimal, MAX_NEIGHBORS: '' }).graph.maxNeighbors).toBe(15);
  });
});
