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

  it.each([
    ['a blank number', { SIMILARITY_THRESHOLD: ' ' }, /SIMILARITY_THRESHOLD: must be a decimal number/],
    ['a hexadecimal number', { MAX_NEIGHBORS: '0x1' }, /MAX_NEIGHBORS: must be a whole decimal number/],
    ['a number with a unit', { HTTP_PORT: '3000ms' }, /HTTP_PORT: must be a whole decimal number/],
    ['Infinity', { SIMILARITY_THRESHOLD: 'Infinity' }, /SIMILARITY_THRESHOLD: must be a decimal number/],
  ])('refuses %s', (_, env, message) => {
    expect(configError({ ...minimal, ...env })).toMatch(message);
  });

  it('reads decimal numbers written with a sign, a fraction or an exponent', () => {
    const config = loadConfig({ ...minimal, SIMILARITY_THRESHOLD: '-.25', MAX_NEIGHBORS: '+20', RETRY_MAX_DELAY_MS: '1e4' });
    expect([config.graph.threshold, config.graph.maxNeighbors, config.retry.maxDelayMs]).toEqual([-0.25, 20, 10000]);
  });

  it('checks related settings together', () => {
    expect(configError({ ...minimal, RETRY_INITIAL_DELAY_MS: '6000', RETRY_MAX_DELAY_MS: '5000' })).toMatch(/RETRY_INITIAL_DELAY_MS: must not exceed RETRY_MAX_DELAY_MS \(5000\)/);
    expect(configError({ ...minimal, KAFKA_SESSION_TIMEOUT_MS: '10000', BATCH_TIME_BUDGET_MS: '6000' })).toMatch(/BATCH_TIME_BUDGET_MS: must be at most half of KAFKA_SESSION_TIMEOUT_MS/);
    expect(configError({ ...minimal, CONSUMER_STALL_TIMEOUT_MS: '5000' })).toMatch(/CONSUMER_STALL_TIMEOUT_MS: must be more than twice BATCH_TIME_BUDGET_MS/);
  });

  it('refuses an operator token too short to guess at', () => {
    expect(configError({ ...minimal, OPERATOR_TOKEN: 'short' })).toMatch(/OPERATOR_TOKEN: must be at least 16 characters/);
  });
});
