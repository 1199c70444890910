import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configDocuments, configMap, envExample, readmeTable, settings } from '../../scripts/config-docs';
import { declaredVariables } from '../../src/config/app-config';

const root = join(__dirname, '..', '..');

/** 'up to date', or what differs and how to fix it. */
function staleness(path: string, current: string, expected: string): string {
  if (current === expected) return 'up to date';
  const have = current.split('\n');
  const want = expected.split('\n');
  const line = want.findIndex((text, i) => have[i] !== text);
  const at = line < 0 ? have.length : line;
  return `${path} is out of date with src/config/app-config.ts: run \`npm run config:docs\` (line ${at + 1}: expected ${JSON.stringify(want[at])}, found ${JSON.stringify(have[at])})`;
}

describe('the documents generated from the config declaration', () => {
  it.each(configDocuments.map((document) => [document.path, document] as const))('%s is up to date', (path, document) => {
    const current = readFileSync(join(root, path), 'utf8');
    expect(staleness(path, current, document.render(current))).toBe('up to date');
  });

  it('lists every declared variable once in .env.example and the README, and every non-secret one in the ConfigMap', () => {
    const names = [...declaredVariables().keys()].sort();
    const secrets: string[] = settings().filter((s) => s.secret).map((s) => s.name);
    expect(secrets).toEqual(expect.arrayContaining(['DB_URL', 'KAFKA_SASL_PASSWORD', 'OPERATOR_TOKEN']));
    const assigned = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m[1]).sort();
    expect(assigned(envExample(), /^(?:# )?([A-Z][A-Z0-9_]*)=/gm)).toEqual(names);
    expect(assigned(readmeTable(), /^\| `([A-Z0-9_]+)` \|/gm)).toEqual(names);
    expect(assigned(configMap(), /^ {2}([A-Z][A-Z0-9_]*): "/gm)).toEqual(names.filter((name) => !secrets.includes(name)));
  });

  it('keeps the ConfigMap values chosen for the cluster, and leaves optional variables unset there', () => {
    const map = configMap();
    expect(map).toContain('  OPERATOR_PAGES: "off"');
    expect(map).toContain('  KAFKA_SASL_MECHANISM: ""');
    expect(map).toContain('  HNSW_EF_SEARCH: "300"');
  });
});
