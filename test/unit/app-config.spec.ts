import { z } from 'zod';
import { AppConfig, ConfigValidationError, declaredVariables, loadAdminConfig, loadConfig, VariableName } from '../../src/config/app-config';

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

/**
 * For every variable, a valid value other than its default, and what else must be set for it to
 * matter. Typed by every declared name, so a new setting does not compile until it is listed here.
 */
const otherValues: Record<VariableName, { value: string; with?: Record<string, string> }> = {
  DB_URL: { value: 'postgres://other@db:5432/app' },
  DB_POOL_SIZE: { value: '11' },
  DB_SSL: { value: 'true' },
  DB_SSL_REJECT_UNAUTHORIZED: { value: 'false', with: { DB_SSL: 'true' } },
  KAFKA_BROKERS: { value: 'kafka-3:9092' },
  KAFKA_CLIENT_ID: { value: 'other-client' },
  KAFKA_GROUP_ID: { value: 'other_group' },
  KAFKA_SSL: { value: '1' },
  KAFKA_SASL_MECHANISM: { value: 'plain', with: { KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' } },
  KAFKA_SASL_USERNAME: { value: 'someone', with: { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' } },
  KAFKA_SASL_PASSWORD: { value: 'other', with: { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' } },
  STUDENT_EMBEDDING_TOPIC: { value: 'other_events' },
  DEAD_LETTER_TOPIC: { value: 'other_dead_letters' },
  BATCH_MAX_EVENTS: { value: '501' },
  KAFKA_SESSION_TIMEOUT_MS: { value: '31000' },
  KAFKA_PARTITIONS_CONCURRENTLY: { value: '4' },
  KAFKA_CREATE_TOPICS: { value: 'true' },
  KAFKA_TOPIC_PARTITIONS: { value: '4' },
  BATCH_TIME_BUDGET_MS: { value: '3001' },
  CONSUMER_STALL_TIMEOUT_MS: { value: '120001' },
  LAG_POLL_INTERVAL_MS: { value: '10001' },
  MAX_CONSUMER_LAG: { value: '10001' },
  SIMILARITY_THRESHOLD: { value: '0.2' },
  MAX_NEIGHBORS: { value: '16' },
  NEIGHBOR_RESERVE: { value: '6' },
  CANDIDATE_SEARCH: { value: 'exact' },
  REVERSE_CANDIDATES: { value: '151' },
  REVERSE_SEEDS: { value: '6' },
  DENSE_REVERSE_SEEDS: { value: '21' },
  EMBEDDING_DIM: { value: '385' },
  VECTOR_INDEX: { value: 'ivfflat' },
  HNSW_EF_SEARCH: { value: '301' },
  IVFFLAT_PROBES: { value: '10' },
  HTTP_PORT: { value: '3001' },
  OPERATOR_PAGES: { value: 'off' },
  OPERATOR_TOKEN: { value: 'a-token-of-16-characters' },
  REPORT_CACHE_SECONDS: { value: '61' },
  LOG_LEVEL: { value: 'debug' },
  SHUTDOWN_TIMEOUT_MS: { value: '30001' },
  RETRY_MAX_ATTEMPTS: { value: '6' },
  RETRY_INITIAL_DELAY_MS: { value: '101' },
  RETRY_MAX_DELAY_MS: { value: '5001' },
};

const adminPart = ({ database, graph, vectors }: AppConfig) => ({ database, graph, vectors });

describe('the config declaration', () => {
  it('lists a value for exactly the declared variables', () => {
    expect(Object.keys(otherValues).sort()).toEqual([...declaredVariables().keys()].sort());
  });

  it.each(Object.entries(otherValues))('carries %s into the typed config', (name, { value, with: companions }) => {
    const before = loadConfig({ ...minimal, ...companions });
    const after = loadConfig({ ...minimal, ...companions, [name]: value });
    expect(after).not.toEqual(before);
    // The admin commands read the same fields the same way.
    expect(loadAdminConfig({ ...minimal, ...companions, [name]: value })).toEqual(adminPart(after));
  });

  it('refuses a variable declared twice with different declarations', () => {
    const field = (meaning: string) => ({ kind: 'field' as const, variables: { TWICE: { schema: z.string(), meaning } }, build: (v: { TWICE: string }) => v.TWICE });
    expect(() => declaredVariables({ first: field('one'), second: field('other') })).toThrow(/TWICE is declared twice/);
  });
});
