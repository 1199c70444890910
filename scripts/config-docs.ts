/**
 * Writes the documents that list the settings from their one declaration
 * (src/config/app-config.ts): .env.example, k8s/configmap.yaml and the README's settings table.
 * Run `npm run config:docs` after changing a setting; a unit test fails while they differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppConfig, configDeclaration, declaredVariables, Variable, VariableName } from '../src/config/app-config';

/** Where each part of the typed config is listed. */
const headings: Record<keyof AppConfig, string> = {
  database: 'PostgreSQL',
  kafka: 'Kafka',
  graph: 'Graph',
  vectors: 'Vectors',
  http: 'HTTP',
  logLevel: 'Process',
  shutdownTimeoutMs: 'Process',
  retry: 'Process',
};

/**
 * The ConfigMap's values that deliberately differ from the defaults, and what a cluster operator
 * must know beside a setting's meaning.
 */
const clusterSettings: Partial<Record<VariableName, { value?: string; note: string }>> = {
  DB_POOL_SIZE: { note: 'Connections per pod: total = replicas x DB_POOL_SIZE (+1 for the migrate Job).' },
  KAFKA_BROKERS: {
    value: '127.0.0.1:39092',
    note: 'Required. CHANGE THIS: it points at the local dev broker, which does not exist inside the cluster. Use the in-cluster bootstrap address, e.g. "kafka.kafka.svc:9092".',
  },
  KAFKA_GROUP_ID: { note: "All replicas share this group and split the topic's partitions between them." },
  KAFKA_SASL_MECHANISM: { note: 'When set, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must be set (non-empty) in the Secret.' },
  KAFKA_CREATE_TOPICS: { note: 'Topics are created by the platform team; set "true" to let the worker create missing ones.' },
  OPERATOR_PAGES: { value: 'off', note: 'Off in the cluster; turn them on with OPERATOR_TOKEN set in the Secret to reach them through a port-forward.' },
  HTTP_PORT: { note: "Must match the containerPort (3000) in deployment.yaml and the Service's targetPort." },
  SHUTDOWN_TIMEOUT_MS: { note: 'Keep below terminationGracePeriodSeconds (45 s) in deployment.yaml.' },
};

export const README_TABLE_BEGIN = '<!-- config-table:begin -->';
export const README_TABLE_END = '<!-- config-table:end -->';

interface Setting {
  name: VariableName;
  heading: string;
  /** The meaning, with the accepted values when the schema lists them. */
  meaning: string;
  default?: string;
  required: boolean;
  secret: boolean;
  example?: string;
}

/** The schema inside defaults, optionals and transforms. */
function innermost(schema: z.ZodTypeAny): z.ZodTypeAny {
  if (schema instanceof z.ZodDefault) return innermost(schema._def.innerType);
  if (schema instanceof z.ZodOptional) return innermost(schema.unwrap());
  if (schema instanceof z.ZodEffects) return innermost(schema.innerType());
  return schema;
}

function defaultOf(schema: z.ZodTypeAny): string | undefined {
  if (schema instanceof z.ZodDefault) return String(schema._def.defaultValue());
  if (schema instanceof z.ZodOptional) return defaultOf(schema.unwrap());
  if (schema instanceof z.ZodEffects) return defaultOf(schema.innerType());
  return undefined;
}

function documented(name: VariableName, heading: string, variable: Variable): Setting {
  const inner = innermost(variable.schema);
  const options: string[] = inner instanceof z.ZodEnum ? inner.options : [];
  // A flag's default already shows how it is written.
  const choices = options.length && options.join() !== 'true,false,1,0' ? `; one of: ${options.join(', ')}` : '';
  return {
    name,
    heading,
    meaning: `${variable.meaning}${choices}`,
    default: defaultOf(variable.schema),
    required: !variable.schema.isOptional(),
    secret: !!variable.secret,
    example: variable.example,
  };
}

/** Every setting in declaration order, each once, under the heading of the part it fills first. */
export function settings(): Setting[] {
  const seen = new Set<string>();
  return (Object.keys(configDeclaration) as (keyof AppConfig)[]).flatMap((part) =>
    [...declaredVariables({ [part]: configDeclaration[part] })]
      .filter(([name]) => {
        const first = !seen.has(name);
        seen.add(name);
        return first;
      })
      .map(([name, variable]) => documented(name as VariableName, headings[part], variable)),
  );
}

/** Splits text into comment lines no wider than `width`, each starting with `prefix`. */
function comment(text: string, prefix: string, width = 100): string[] {
  const lines: string[] = [];
  let line = prefix.trimEnd();
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > width && line.length > prefix.trimEnd().length) {
      lines.push(line);
      line = prefix.trimEnd();
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

/** Settings grouped under their headings, in order. */
function grouped(all: Setting[]): [string, Setting[]][] {
  const groups: [string, Setting[]][] = [];
  for (const setting of all) {
    const last = groups[groups.length - 1];
    if (last && last[0] === setting.heading) last[1].push(setting);
    else groups.push([setting.heading, [setting]]);
  }
  return groups;
}

export function envExample(all = settings()): string {
  const out = [
    ...comment(
      'Similarity Worker configuration, generated from src/config/app-config.ts by `npm run config:docs`: change a setting there, not here. ' +
        'Every variable is validated at start-up; a bad value stops the service with a message naming each bad variable. ' +
        'An empty value counts as unset. A commented-out variable has no default.',
      '#',
    ),
  ];
  for (const [heading, group] of grouped(all)) {
    out.push('', `# --- ${heading} ---`);
    for (const s of group) {
      out.push(...comment(s.required ? `${s.meaning}. Required.` : s.meaning, '#'));
      if (s.default !== undefined) out.push(`${s.name}=${s.default}`);
      else if (s.required) out.push(`${s.name}=${s.example ?? ''}`);
      else out.push(`# ${s.name}=${s.example ?? ''}`);
    }
  }
  return `${out.join('\n')}\n`;
}

export function configMap(all = settings()): string {
  const secrets = all.filter((s) => s.secret).map((s) => s.name);
  const out = [
    ...comment(
      'Generated from src/config/app-config.ts by `npm run config:docs` (values chosen for the cluster are listed in scripts/config-docs.ts): do not edit by hand. ' +
        `Every setting but the secret ones (${secrets.join(', ')}), which live in the Secret (see secret.example.yaml). ` +
        'All values are strings. An empty string means unset: the config loader drops blank values, so the built-in default applies.',
      '#',
    ),
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: similarity-worker-config',
    '  labels:',
    '    app.kubernetes.io/name: similarity-worker',
    '    app.kubernetes.io/component: worker',
    'data:',
  ];
  for (const [heading, group] of grouped(all.filter((s) => !s.secret))) {
    if (out[out.length - 1] !== 'data:') out.push('');
    out.push(`  # --- ${heading} ---`);
    for (const s of group) {
      const cluster = clusterSettings[s.name];
      out.push(...comment(s.meaning, '  #'));
      if (cluster) out.push(...comment(cluster.note, '  #'));
      // An optional variable stays unset (""): its example is a sample, not a choice for the cluster.
      out.push(`  ${s.name}: ${JSON.stringify(cluster?.value ?? s.default ?? (s.required ? s.example ?? '' : ''))}`);
    }
  }
  return `${out.join('\n')}\n`;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/</g, '&lt;');

export function readmeTable(all = settings()): string {
  const rows = all.map((s) => `| \`${s.name}\` | ${cell(s.default ?? (s.required ? '(required)' : '(unset)'))} | ${cell(s.meaning)} |`);
  return ['| setting | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** The README with the table between its markers replaced. */
export function withReadmeTable(readme: string, table = readmeTable()): string {
  const begin = readme.indexOf(README_TABLE_BEGIN);
  const end = readme.indexOf(README_TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`README.md needs the lines ${README_TABLE_BEGIN} and ${README_TABLE_END} around its settings table`);
  return `${readme.slice(0, begin + README_TABLE_BEGIN.length)}\n${table}\n${readme.slice(end)}`;
}

/** Each generated document: its path from the repository root, and its content given the current one. */
export const configDocuments: { path: string; render: (current: string) => string }[] = [
  { path: '.env.example', render: () => envExample() },
  { path: 'k8s/configmap.yaml', render: () => configMap() },
  { path: 'README.md', render: (current) => withReadmeTable(current) },
];

if (require.main === module) {
  const root = join(__dirname, '..');
  for (const document of configDocuments) {
    const path = join(root, document.path);
    const current = readFileSync(path, 'utf8');
    const next = document.render(current);
    if (next !== current) writeFileSync(path, next);
    console.log(`${document.path}: ${next === current ? 'up to date' : 'written'}`);
  }
}
