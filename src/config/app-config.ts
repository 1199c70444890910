import { existsSync } from 'node:fs';
import { z } from 'zod';

/** pgvector's largest hnsw.ef_search. */
export const WIDEST_HNSW_EF_SEARCH = 1000;

/**
 * Numbers are written in decimal: JavaScript's Number() would read " " as 0 and "0x1" as 1, so
 * anything else is left a string and refused with a message that says what is expected.
 */
const DECIMAL = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;
const decimal = (schema: z.ZodNumber) => z.preprocess((value) => (typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value), schema);
const number = (min: number, max: number) => decimal(z.number({ invalid_type_error: 'must be a decimal number' }).min(min).max(max));
const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => decimal(z.number({ invalid_type_error: 'must be a whole decimal number' }).int().min(min).max(max));
const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

/** Every setting the service reads, validated once at start-up. */
export const configSchema = z
  .object({
    DB_URL: z.string().url().refine((url) => /^postgres(ql)?:\/\//.test(url), 'must be a postgres:// URL'),
    DB_POOL_SIZE: integer(1, 200).default(10),
    DB_SSL: flag.default('false'),
    DB_SSL_REJECT_UNAUTHORIZED: flag.default('true'),
    KAFKA_BROKERS: z
      .string()
      .min(1)
      .transform((value) => value.split(',').map((broker) => broker.trim()).filter(Boolean))
      .refine((brokers) => brokers.length > 0 && brokers.every((b) => /^[^\s:]+:\d+$/.test(b)), 'must be host:port[,host:port...]'),
    KAFKA_CLIENT_ID: z.string().min(1).default('similarity-worker'),
    KAFKA_GROUP_ID: z.string().min(1).default('similarity_worker'),
    KAFKA_SSL: flag.default('false'),
    KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
    KAFKA_SASL_USERNAME: z.string().optional(),
    KAFKA_SASL_PASSWORD: z.string().optional(),
    STUDENT_EMBEDDING_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/).default('student_embedding_events'),
    DEAD_LETTER_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/).optional(),
    SIMILARITY_THRESHOLD: number(-1, 1).default(0.1),
    MAX_NEIGHBORS: integer(1, 1000).default(15),
    NEIGHBOR_RESERVE: integer(0, 1000).default(5),
    EMBEDDING_DIM: integer(1, 16000).default(384),
    CANDIDATE_SEARCH: z.enum(['exact', 'index']).default('index'),
    REVERSE_CANDIDATES: integer(1, 10000).default(150),
    REVERSE_SEEDS: integer(0, 1000).default(5),
    DENSE_REVERSE_SEEDS: integer(0, 1000).default(20),
    VECTOR_INDEX: z.enum(['hnsw', 'ivfflat', 'none']).default('hnsw'),
    HNSW_EF_SEARCH: integer(1, WIDEST_HNSW_EF_SEARCH).default(300),
    IVFFLAT_PROBES: integer(1, 100000).optional(),
    BATCH_MAX_EVENTS: integer(1, 100000).default(500),
    KAFKA_SESSION_TIMEOUT_MS: integer(6000, 300000).default(30000),
    KAFKA_PARTITIONS_CONCURRENTLY: integer(1, 1000).default(3),
    KAFKA_CREATE_TOPICS: flag.default('false'),
    KAFKA_TOPIC_PARTITIONS: integer(1, 10000).default(3),
    BATCH_TIME_BUDGET_MS: integer(100, 120000).default(3000),
    CONSUMER_STALL_TIMEOUT_MS: integer(5000).default(120000),
    LAG_POLL_INTERVAL_MS: integer(500, 600000).default(10000),
    MAX_CONSUMER_LAG: integer(0).default(10000),
    HTTP_PORT: integer(0, 65535).default(3000),
    OPERATOR_PAGES: z.enum(['on', 'off']).default('on'),
    OPERATOR_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    REPORT_CACHE_SECONDS: integer(0, 86400).default(60),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    SHUTDOWN_TIMEOUT_MS: integer(0).default(30000),
    RETRY_MAX_ATTEMPTS: integer(1, 1000).default(5),
    RETRY_INITIAL_DELAY_MS: integer(1).default(100),
    RETRY_MAX_DELAY_MS: integer(1).default(5000),
  })
  .superRefine((config, ctx) => {
    if (config.KAFKA_SASL_MECHANISM && !(config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['KAFKA_SASL_USERNAME'], message: 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM' });
    }
    if (config.BATCH_TIME_BUDGET_MS * 2 > config.KAFKA_SESSION_TIMEOUT_MS) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['BATCH_TIME_BUDGET_MS'], message: `must be at most half of KAFKA_SESSION_TIMEOUT_MS (${config.KAFKA_SESSION_TIMEOUT_MS})` });
    }
    if (config.CONSUMER_STALL_TIMEOUT_MS <= config.BATCH_TIME_BUDGET_MS * 2) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['CONSUMER_STALL_TIMEOUT_MS'], message: `must be more than twice BATCH_TIME_BUDGET_MS (${config.BATCH_TIME_BUDGET_MS})` });
    }
    if (config.RETRY_INITIAL_DELAY_MS > config.RETRY_MAX_DELAY_MS) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['RETRY_INITIAL_DELAY_MS'], message: `must not exceed RETRY_MAX_DELAY_MS (${config.RETRY_MAX_DELAY_MS})` });
    }
  });

export type RawConfig = z.infer<typeof configSchema>;

export interface AppConfig {
  database: { url: string; poolSize: number; ssl: false | { rejectUnauthorized: boolean } };
  kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    ssl: boolean;
    sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
    topic: string;
    deadLetterTopic: string;
    batchMaxEvents: number;
    /** How long the group waits for a silent member (a crashed worker) before handing its partitions on. */
    sessionTimeoutMs: number;
    /** Partitions one worker handles at once (graph transactions still take turns). */
    partitionsConcurrently: number;
    /** Create the event and dead-letter topics at start-up when missing, instead of waiting for them. */
    createTopics: boolean;
    /** Partitions of the topics created by createTopics. */
    topicPartitions: number;
    /** Events per batch are sized so that one batch (its search, its turn and its transaction) takes about half of this. */
    batchTimeBudgetMs: number;
    /** Liveness fails when the consumer has lag on its partitions yet made no progress for this long. */
    stallTimeoutMs: number;
    /** How often the group's lag is read (health and metrics serve the last reading). */
    lagPollIntervalMs: number;
    /** /health/lag reports down above this total lag of the group. */
    maxConsumerLag: number;
  };
  graph: {
    threshold: number;
    maxNeighbors: number;
    reserve: number;
    candidateSearch: 'exact' | 'index';
    /** Index mode: how far a moved student's search reaches; beyond its pool, the nearest whose pools it may enter are offered it (reverse repair). */
    reverseCandidates: number;
    /** Index mode: a moved student is also offered to the pools that hold any of its this many nearest. */
    reverseSeeds: number;
    /** Index mode: reverseSeeds for a student whose walk is dense (graph/reverse-seeds.ts). */
    denseReverseSeeds: number;
  };
  vectors: {
    dimension: number;
    index: 'hnsw' | 'ivfflat' | 'none';
    hnswEfSearch: number;
    ivfflatProbes?: number;
  };
  http: {
    port: number;
    /** Operator pages: /docs, /graph and /graph/report. Off: they answer 404. */
    operatorPages: boolean;
    /** When set, the operator pages ask for it (Bearer, or HTTP Basic with it as the password). */
    operatorToken?: string;
    /** How long /graph/report serves the same report (0: computed on every request). */
    reportCacheSeconds: number;
  };
  logLevel: RawConfig['LOG_LEVEL'];
  shutdownTimeoutMs: number;
  /** Retries of a failed batch: conflicts up to maxAttempts, an unavailable database without limit. */
  retry: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number };
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function parseOrThrow<T extends z.ZodTypeAny>(schema: T, env: Record<string, string | undefined>): z.infer<T> {
  const blanksRemoved = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = schema.safeParse(blanksRemoved);
  if (!parsed.success) {
    throw new ConfigValidationError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return parsed.data;
}

function databaseConfig(c: Pick<RawConfig, 'DB_URL' | 'DB_POOL_SIZE' | 'DB_SSL' | 'DB_SSL_REJECT_UNAUTHORIZED'>): AppConfig['database'] {
  return { url: c.DB_URL, poolSize: c.DB_POOL_SIZE, ssl: c.DB_SSL ? { rejectUnauthorized: c.DB_SSL_REJECT_UNAUTHORIZED } : false };
}

/** Every setting but Kafka's: what the admin commands that never use Kafka need (verify, report, rebuild, neighbors). */
export type AdminConfig = Omit<AppConfig, 'kafka'>;

const adminSchema = configSchema.innerType().pick({
  DB_URL: true,
  DB_POOL_SIZE: true,
  DB_SSL: true,
  DB_SSL_REJECT_UNAUTHORIZED: true,
  SIMILARITY_THRESHOLD: true,
  MAX_NEIGHBORS: true,
  NEIGHBOR_RESERVE: true,
  EMBEDDING_DIM: true,
  CANDIDATE_SEARCH: true,
  REVERSE_CANDIDATES: true,
  REVERSE_SEEDS: true,
  DENSE_REVERSE_SEEDS: true,
  VECTOR_INDEX: true,
  HNSW_EF_SEARCH: true,
  IVFFLAT_PROBES: true,
  HTTP_PORT: true,
  OPERATOR_PAGES: true,
  OPERATOR_TOKEN: true,
  REPORT_CACHE_SECONDS: true,
  LOG_LEVEL: true,
  SHUTDOWN_TIMEOUT_MS: true,
  RETRY_MAX_ATTEMPTS: true,
  RETRY_INITIAL_DELAY_MS: true,
  RETRY_MAX_DELAY_MS: true,
});

function adminConfig(c: z.infer<typeof adminSchema>): AdminConfig {
  return {
    database: databaseConfig(c),
    graph: {
      threshold: c.SIMILARITY_THRESHOLD,
      maxNeighbors: c.MAX_NEIGHBORS,
      reserve: c.NEIGHBOR_RESERVE,
      candidateSearch: c.CANDIDATE_SEARCH,
      reverseCandidates: c.REVERSE_CANDIDATES,
      reverseSeeds: c.REVERSE_SEEDS,
      denseReverseSeeds: c.DENSE_REVERSE_SEEDS,
    },
    vectors: {
      dimension: c.EMBEDDING_DIM,
      index: c.VECTOR_INDEX,
      hnswEfSearch: c.HNSW_EF_SEARCH,
      ivfflatProbes: c.IVFFLAT_PROBES,
    },
    http: { port: c.HTTP_PORT, operatorPages: c.OPERATOR_PAGES === 'on', operatorToken: c.OPERATOR_TOKEN, reportCacheSeconds: c.REPORT_CACHE_SECONDS },
    logLevel: c.LOG_LEVEL,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    retry: { maxAttempts: c.RETRY_MAX_ATTEMPTS, initialDelayMs: c.RETRY_INITIAL_DELAY_MS, maxDelayMs: c.RETRY_MAX_DELAY_MS },
  };
}

/** Like loadConfig, but the Kafka settings are neither required nor checked. */
export function loadAdminConfig(env: Record<string, string | undefined>): AdminConfig {
  return adminConfig(parseOrThrow(adminSchema, env));
}

/**
 * The process's config, built once at start-up: a `.env` file in the working directory is read
 * first (variables already in the environment win), then `load` parses the environment.
 */
export function configFromEnvironment<T>(load: (env: Record<string, string | undefined>) => T, envFile = '.env'): T {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return load(process.env);
}

/** Parses the environment into the typed config; throws one error naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const c: RawConfig = parseOrThrow(configSchema, env);
  return {
    ...adminConfig(c),
    kafka: {
      brokers: c.KAFKA_BROKERS,
      clientId: c.KAFKA_CLIENT_ID,
      groupId: c.KAFKA_GROUP_ID,
      ssl: c.KAFKA_SSL,
      sasl: c.KAFKA_SASL_MECHANISM
        ? { mechanism: c.KAFKA_SASL_MECHANISM, username: c.KAFKA_SASL_USERNAME!, password: c.KAFKA_SASL_PASSWORD! }
        : undefined,
      topic: c.STUDENT_EMBEDDING_TOPIC,
      deadLetterTopic: c.DEAD_LETTER_TOPIC ?? `${c.STUDENT_EMBEDDING_TOPIC}.dlq`,
      batchMaxEvents: c.BATCH_MAX_EVENTS,
      sessionTimeoutMs: c.KAFKA_SESSION_TIMEOUT_MS,
      partitionsConcurrently: c.KAFKA_PARTITIONS_CONCURRENTLY,
      createTopics: c.KAFKA_CREATE_TOPICS,
      topicPartitions: c.KAFKA_TOPIC_PARTITIONS,
      batchTimeBudgetMs: c.BATCH_TIME_BUDGET_MS,
      stallTimeoutMs: c.CONSUMER_STALL_TIMEOUT_MS,
      lagPollIntervalMs: c.LAG_POLL_INTERVAL_MS,
      maxConsumerLag: c.MAX_CONSUMER_LAG,
    },
  };
}
