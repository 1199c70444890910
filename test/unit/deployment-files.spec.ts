import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const packageJson = JSON.parse(read('package.json'));

describe('what the repository deploys', () => {
  it('names a release in every Kubernetes manifest: no :latest, and the kustomize tag is the package version', () => {
    const manifests = readdirSync(join(root, 'k8s')).filter((f) => f.endsWith('.yaml'));
    const images = manifests.flatMap((f) => [...read(`k8s/${f}`).matchAll(/^\s*image:\s*(\S+)/gm)].map((m) => m[1]));
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toBe('similarity-worker');
    expect(read('k8s/kustomization.yaml')).toMatch(new RegExp(`- name: similarity-worker\\n\\s+newTag: "${packageJson.version.replace(/\./g, '\\.')}"`));
  });

  it('builds every Dockerfile stage from a base pinned by digest', () => {
    const dockerfile = read('Dockerfile');
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(1);
    for (const from of froms) expect(from).toBe('${NODE_IMAGE}');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim@sha256:[0-9a-f]{64}$/m);
  });

  it('runs in docker compose the pgvector the local services bundle, and tagged images', () => {
    const compose = read('docker-compose.yml');
    const bundled = read('scripts/services/install.sh').match(/pgvector (\d+\.\d+\.\d+)/)![1];
    expect(compose).toMatch(new RegExp(`image: pgvector/pgvector:${bundled.replace(/\./g, '\\.')}-pg16`));
    expect(compose).not.toMatch(/:latest/);
  });

  it('creates in docker compose the topics the worker waits for, the repair topic with the event topic\'s partition count', () => {
    const compose = read('docker-compose.yml');
    const topics = /for topic in ([^;]+); do/.exec(compose)?.[1].trim().split(/\s+/);
    const partitions = /--create --if-not-exists --topic "\$\$topic" --partitions (\d+)/.exec(compose)?.[1];
    const events = /STUDENT_EMBEDDING_TOPIC=(\S+)/.exec(read('.env.example'))![1];
    expect(topics).toEqual([events, `${events}.repairs`, `${events}.dlq`]);
    expect(partitions).toBeDefined();
    expect(compose).toMatch(/topics: \{ condition: service_completed_successfully \}/);
  });

  it('spaces checkpoints the same way in docker compose and the local services (full-page images dominated WAL)', () => {
    const setting = (text: string, name: string) => new RegExp(`${name}=(?:\\$\\{[A-Z_]+:-)?([0-9a-z]+)`).exec(text)?.[1];
    const compose = read('docker-compose.yml');
    const local = read('scripts/services/start.sh');
    for (const name of ['max_wal_size', 'checkpoint_timeout']) {
      expect({ name, compose: setting(compose, name) }).toEqual({ name, compose: setting(local, name) });
      expect(setting(local, name)).toBeDefined();
    }
  });

  it('turns off the install-time telemetry of @scarf/scarf (pulled in by swagger-ui-dist)', () => {
    expect(packageJson.scarfSettings).toEqual({ enabled: false });
  });
});
