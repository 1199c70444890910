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
const topicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/);

/** One environment variable: how it is read (type, bounds, default), what it means, where it may be kept. */
export interface Variable<S extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly schema: S;
  /** One line, written into .env.example, k8s/configmap.yaml and the README's table. */
  readonly meaning: string;
  /** Belongs in the Kubernetes Secret, never in the ConfigMap. */
  readonly secret?: boolean;
  /** A value to show for a variable without a default (.env.example writes it as a sample). */
  readonly example?: string;
}

type Variables = Record<string, Variable>;
type ValuesOf<V extends Variables> = { [N in keyof V]: z.output<V[N]['schema']> };

/** One field of the typed config and the variables it is built from. */
export interface Field<V extends Variables, T> {
  readonly kind: 'field';
  readonly variables: V;
  // A method, so that a field over particular variables is still a Field<Variables, unknown>.
  build(values: ValuesOf<V>): T;
}

/** The typed config's shape, with a Field at every leaf. */
export interface Declaration {
  readonly [key: string]: Field<Variables, unknown> | Declaration;
}

type Built<E> = E extends Field<Variables, infer T> ? T : ConfigOf<E>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The object a declaration builds: a field that may be undefined is an optional property. */
export type ConfigOf<D> = Simplify<
  { [K in keyof D as undefined extends Built<D[K]> ? never : K]: Built<D[K]> } & { [K in keyof D as undefined extends Built<D[K]> ? K : never]?: Built<D[K]> }
>;

const variable = <S extends z.ZodTypeAny>(schema: S, meaning: string, options: Pick<Variable, 'secret' | 'example'> = {}): Variable<S> => ({ schema, meaning, ...options });

/** A field that is one variable's value as read. */
function setting<N extends string, S extends z.ZodTypeAny>(name: N, schema: S, meaning: string, options?: Pick<Variable, 'secret' | 'example'>): Field<Record<N, Variable<S>>, z.output<S>> {
  return { kind: 'field', variables: { [name]: variable(schema, meaning, options) } as Record<N, Variable<S>>, build: (values) => values[name] };
}

/** A field built from several variables; a variable shared with another field is the same object in both. */
const combined = <V extends Variables, T>(variables: V, build: (values: ValuesOf<V>) => T): Field<V, T> => ({ kind: 'field', variables, build });

// Read by two fields: the event topic, and the dead-letter topic's default.
const eventTopic = variable(topicName.default('student_embedding_events'), 'topic of embedding events (key: the student id)');

/**
 * Every setting the service reads, declared once: the variable, its schema, its meaning, and by
 * its place here the field of the typed config it fills. The loaders, the `AppConfig` type and
 * the documentation (`npm run config:docs`) are all derived from this.
 */
export const configDeclaration = {
  database: {
    url: setting(
      'DB_URL',
      z.string().url().refine((url) => /^postgres(ql)?:\/\//.test(url), 'must be a postgres:// URL'),
      'postgres:// URL of PostgreSQL with pgvector (>= 0.8)',
      { secret: true, example: 'postgres://postgres@127.0.0.1:54329/similarity' },
    ),
    poolSize: setting('DB_POOL_SIZE', integer(1, 200).default(10), 'connections in the pool of each process'),
    ssl: combined(
      {
        DB_SSL: variable(flag.default('false'), 'TLS to PostgreSQL'),
        DB_SSL_REJECT_UNAUTHORIZED: variable(flag.default('true'), "with DB_SSL, refuse a server certificate that does not verify"),
      },
      (v): false | { rejectUnauthorized: boolean } => (v.DB_SSL ? { rejectUnauthorized: v.DB_SSL_REJECT_UNAUTHORIZED } : false),
    ),
  },
  kafka: {
    brokers: setting(
      'KAFKA_BROKERS',
      z
        .string()
        .min(1)
        .transform((value) => value.split(',').map((broker) => broker.trim()).filter(Boolean))
        .refine((brokers) => brokers.length > 0 && brokers.every((b) => /^[^\s:]+:\d+$/.test(b)), 'must be host:port[,host:port...]'),
      'Kafka brokers, host:port, comma-separated',
      { example: '127.0.0.1:39092' },
    ),
    clientId: setting('KAFKA_CLIENT_ID', z.string().min(1).default('similarity-worker'), 'Kafka client id'),
    groupId: setting('KAFKA_GROUP_ID', z.string().min(1).default('similarity_worker'), 'consumer group; replicas in the same group share the partitions'),
    ssl: setting('KAFKA_SSL', flag.default('false'), 'TLS to Kafka'),
    sasl: combined(
      {
        KAFKA_SASL_MECHANISM: variable(z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(), 'SASL mechanism to Kafka, unset for none', { example: 'scram-sha-512' }),
        KAFKA_SASL_USERNAME: variable(z.string().optional(), 'SASL user, required with KAFKA_SASL_MECHANISM', { secret: true }),
        KAFKA_SASL_PASSWORD: variable(z.string().optional(), 'SASL password, required with KAFKA_SASL_MECHANISM; never logged', { secret: true }),
      },
      // The rules below refuse a mechanism without both credentials.
      (v) => (v.KAFKA_SASL_MECHANISM ? { mechanism: v.KAFKA_SASL_MECHANISM, username: v.KAFKA_SASL_USERNAME!, password: v.KAFKA_SASL_PASSWORD! } : undefined),
    ),
    topic: combined({ STUDENT_EMBEDDING_TOPIC: eventTopic }, (v) => v.STUDENT_EMBEDDING_TOPIC),
    deadLetterTopic: combined(
      {
        DEAD_LETTER_TOPIC: variable(topicName.optional(), 'where rejected events go; unset: the event topic followed by .dlq', { example: 'student_embedding_events.dlq' }),
        STUDENT_EMBEDDING_TOPIC: eventTopic,
      },
      (v) => v.DEAD_LETTER_TOPIC ?? `${v.STUDENT_EMBEDDING_TOPIC}.dlq`,
    ),
    batchMaxEvents: setting('BATCH_MAX_EVENTS', integer(1, 100000).default(500), 'most events handed to the graph in one batch'),
    sessionTimeoutMs: setting('KAFKA_SESSION_TIMEOUT_MS', integer(6000, 300000).default(30000), 'how long the group waits for a silent (crashed) worker before its partitions move on'),
    partitionsConcurrently: setting(
      'KAFKA_PARTITIONS_CONCURRENTLY',
      integer(1, 1000).default(3),
      "topic-partitions one worker handles at once, in parallel (a partition's events and its repairs count as two): each partition has its own writer and graph transactions",
    ),
    createTopics: setting(
      'KAFKA_CREATE_TOPICS',
      flag.default('false'),
      "create a missing event topic, its repair topic (with the event topic's partition count) and the dead-letter topic at start-up instead of waiting for them",
    ),
    topicPartitions: setting('KAFKA_TOPIC_PARTITIONS', integer(1, 10000).default(3), 'partitions of the event and dead-letter topics KAFKA_CREATE_TOPICS creates'),
    batchTimeBudgetMs: setting(
      'BATCH_TIME_BUDGET_MS',
      integer(100, 120000).default(3000),
      "events per batch are sized so one batch (its owner-fenced transaction with its searches, then its repairs produced) takes about half of this; at most half the session timeout",
    ),
    stallTimeoutMs: setting(
      'CONSUMER_STALL_TIMEOUT_MS',
      integer(5000).default(120000),
      "/health/live fails after this long without progress while the worker's partitions have lag; more than twice the batch budget",
    ),
    lagPollIntervalMs: setting('LAG_POLL_INTERVAL_MS', integer(500, 600000).default(10000), "how often the group's lag is read for /health/lag, /metrics and the stall check"),
    maxConsumerLag: setting('MAX_CONSUMER_LAG', integer(0).default(10000), "/health/lag (an alert, not a probe) reports down above this total lag of the group"),
  },
  graph: {
    threshold: setting('SIMILARITY_THRESHOLD', number(-1, 1).default(0.1), 'lowest stored cosine similarity, in [-1, 1]'),
    maxNeighbors: setting('MAX_NEIGHBORS', integer(1, 1000).default(15), "K: the most neighbours kept in each student's list"),
    reserve: setting('NEIGHBOR_RESERVE', integer(0, 1000).default(5), 'hidden reserve entries kept per student beyond K, so most repairs need no new search'),
    candidateSearch: setting(
      'CANDIDATE_SEARCH',
      z.enum(['exact', 'index']).default('index'),
      'index: searches use the vector index (approximate, recall measured in the benchmark); exact: full scans, an exact graph at O(students) per event',
    ),
    reverseCandidates: setting(
      'REVERSE_CANDIDATES',
      integer(1, 10000).default(150),
      "index mode: how far a moved student's search reaches (keep it below HNSW_EF_SEARCH); beyond its pool, the nearest whose pools it may enter are offered it",
    ),
    reverseSeeds: setting(
      'REVERSE_SEEDS',
      integer(0, 1000).default(5),
      'index mode: a moved student is also offered to the pools that hold any of its this many nearest (0 turns it off)',
    ),
    denseReverseSeeds: setting(
      'DENSE_REVERSE_SEEDS',
      integer(0, 1000).default(20),
      "index mode: REVERSE_SEEDS for a student whose walk is dense (its last no more than 1.25 times as far as its pool's last)",
    ),
  },
  vectors: {
    dimension: setting('EMBEDDING_DIM', integer(1, 16000).default(384), 'dimension of the embeddings (student_embeddings.vec)'),
    index: setting('VECTOR_INDEX', z.enum(['hnsw', 'ivfflat', 'none']).default('hnsw'), 'the vector index'),
    hnswEfSearch: setting('HNSW_EF_SEARCH', integer(1, WIDEST_HNSW_EF_SEARCH).default(300), 'hnsw.ef_search, set per transaction'),
    ivfflatProbes: setting('IVFFLAT_PROBES', integer(1, 100000).optional(), "ivfflat.probes, set per transaction when given; unset: pgvector's default", { example: '10' }),
  },
  http: {
    port: setting('HTTP_PORT', integer(0, 65535).default(3000), 'HTTP port of /health/*, /metrics, the read API and the operator pages'),
    operatorPages: setting(
      'OPERATOR_PAGES',
      z.enum(['on', 'off']).default('on').transform((value) => value === 'on'),
      'the operator pages (/docs, /graph, /graph/report); off: they answer 404',
    ),
    operatorToken: setting(
      'OPERATOR_TOKEN',
      z.string().min(16, 'must be at least 16 characters').optional(),
      'when set (16+ characters), the operator pages ask for it: an Authorization header of Bearer and the token, or HTTP Basic with the token as the password',
      { secret: true },
    ),
    reportCacheSeconds: setting('REPORT_CACHE_SECONDS', integer(0, 86400).default(60), '/graph/report serves the same report for this long (its queries scan whole tables); 0: computed on every request'),
  },
  logLevel: setting('LOG_LEVEL', z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'), 'pino log level'),
  shutdownTimeoutMs: setting('SHUTDOWN_TIMEOUT_MS', integer(0).default(30000), 'on SIGTERM, the longest wait for the batch in flight before the process exits'),
  retry: {
    maxAttempts: setting(
      'RETRY_MAX_ATTEMPTS',
      integer(1, 1000).default(5),
      'attempts at a batch that hits conflicts (deadlock, serialization, lock timeout) before it is dead-lettered; an unreachable database is retried without limit',
    ),
    initialDelayMs: setting('RETRY_INITIAL_DELAY_MS', integer(1).default(100), 'first retry delay; it doubles up to RETRY_MAX_DELAY_MS'),
    maxDelayMs: setting('RETRY_MAX_DELAY_MS', integer(1).default(5000), 'longest retry delay'),
  },
} satisfies Declaration;

/** The whole config: what the worker has. */
export type AppConfig = ConfigOf<typeof configDeclaration>;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type VariablesIn<D> = { [K in keyof D]: D[K] extends { kind: 'field'; variables: infer V } ? V : VariablesIn<D[K]> }[keyof D];
type DeclaredVariables = UnionToIntersection<VariablesIn<typeof configDeclaration>>;
/** Every variable by name, as read (before it is placed in the typed config). */
export type RawConfig = { [N in keyof DeclaredVariables]: DeclaredVariables[N] extends Variable<infer S> ? z.output<S> : never };
export type VariableName = keyof RawConfig & string;

/** A rule over several variables, checked when a loader reads all of them. */
interface Rule<N extends VariableName = VariableName> {
  reads: readonly N[];
  /** The variable to blame and why, or nothing when the values agree. */
  check: (values: Pick<RawConfig, N>) => { variable: N; message: string } | undefined;
}
// Typed by the names it reads; the loader hands it those variables only when it read them all.
const rule = <N extends VariableName>(reads: readonly N[], check: Rule<N>['check']): Rule => ({ reads, check }) as unknown as Rule;

const crossFieldRules: Rule[] = [
  rule(['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'], (c) =>
    c.KAFKA_SASL_MECHANISM && !(c.KAFKA_SASL_USERNAME && c.KAFKA_SASL_PASSWORD)
      ? { variable: 'KAFKA_SASL_USERNAME', message: 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM' }
      : undefined,
  ),
  rule(['BATCH_TIME_BUDGET_MS', 'KAFKA_SESSION_TIMEOUT_MS'], (c) =>
    c.BATCH_TIME_BUDGET_MS * 2 > c.KAFKA_SESSION_TIMEOUT_MS
      ? { variable: 'BATCH_TIME_BUDGET_MS', message: `must be at most half of KAFKA_SESSION_TIMEOUT_MS (${c.KAFKA_SESSION_TIMEOUT_MS})` }
      : undefined,
  ),
  rule(['CONSUMER_STALL_TIMEOUT_MS', 'BATCH_TIME_BUDGET_MS'], (c) =>
    c.CONSUMER_STALL_TIMEOUT_MS <= c.BATCH_TIME_BUDGET_MS * 2
      ? { variable: 'CONSUMER_STALL_TIMEOUT_MS', message: `must be more than twice BATCH_TIME_BUDGET_MS (${c.BATCH_TIME_BUDGET_MS})` }
      : undefined,
  ),
  rule(['RETRY_INITIAL_DELAY_MS', 'RETRY_MAX_DELAY_MS'], (c) =>
    c.RETRY_INITIAL_DELAY_MS > c.RETRY_MAX_DELAY_MS ? { variable: 'RETRY_INITIAL_DELAY_MS', message: `must not exceed RETRY_MAX_DELAY_MS (${c.RETRY_MAX_DELAY_MS})` } : undefined,
  ),
];

const isField = (entry: Field<Variables, unknown> | Declaration): entry is Field<Variables, unknown> => entry.kind === 'field';

/** The variables a declaration reads, in declaration order; a name declared twice over is a mistake caught at load. */
export function declaredVariables(declaration: Declaration = configDeclaration): Map<string, Variable> {
  const found = new Map<string, Variable>();
  const visit = (entry: Declaration) => {
    for (const value of Object.values(entry)) {
      if (!isField(value)) {
        visit(value);
        continue;
      }
      for (const [name, declared] of Object.entries(value.variables)) {
        if (found.has(name) && found.get(name) !== declared) throw new Error(`${name} is declared twice; declare it once and share the declaration`);
        found.set(name, declared);
      }
    }
  };
  visit(declaration);
  return found;
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Environment = Record<string, string | undefined>;

/**
 * A loader for part of the config: it validates exactly the variables the declaration reads (and
 * the rules over them), throwing one error that names every bad variable, then builds the object.
 */
export function configLoader<D extends Declaration>(declaration: D): (env: Environment) => ConfigOf<D> {
  const variables = declaredVariables(declaration);
  const rules = crossFieldRules.filter((r) => r.reads.every((name) => variables.has(name)));
  const schema = z.object(Object.fromEntries([...variables].map(([name, v]) => [name, v.schema]))).superRefine((values, ctx) => {
    for (const r of rules) {
      const problem = r.check(values as RawConfig);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [problem.variable], message: problem.message });
    }
  });
  const build = (entry: Declaration, values: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(entry).map(([key, value]) => [
        key,
        isField(value) ? value.build(Object.fromEntries(Object.keys(value.variables).map((name) => [name, values[name]])) as ValuesOf<Variables>) : build(value, values),
      ]),
    );
  return (env) => {
    const blanksRemoved = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
    const parsed = schema.safeParse(blanksRemoved);
    if (!parsed.success) {
      throw new ConfigValidationError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`));
    }
    return build(declaration, parsed.data) as ConfigOf<D>;
  };
}

const sections = <K extends keyof typeof configDeclaration>(...keys: K[]): Pick<typeof configDeclaration, K> =>
  Object.fromEntries(keys.map((key) => [key, configDeclaration[key]])) as Pick<typeof configDeclaration, K>;

/** Parses the environment into the whole typed config; throws one error naming every bad variable. */
export const loadConfig = configLoader(configDeclaration);

const adminDeclaration = sections('database', 'graph', 'vectors');

/**
 * What the admin commands have (the database, the graph and vector settings; no Kafka, no HTTP),
 * and so all that a provider built by both the worker and the CLI may inject.
 */
export type AdminConfig = ConfigOf<typeof adminDeclaration>;

/** The admin commands' settings; Kafka's and the HTTP server's are neither required nor checked. */
export const loadAdminConfig: (env: Environment) => AdminConfig = configLoader(adminDeclaration);

/**
 * The process's config, built once at start-up: a `.env` file in the working directory is read
 * first (variables already in the environment win), then `load` parses the environment.
 */
export function configFromEnvironment<T>(load: (env: Environment) => T, envFile = '.env'): T {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return load(process.env);
}
