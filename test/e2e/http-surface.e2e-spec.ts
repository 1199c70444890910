import { INestApplication } from '@nestjs/common';
import { Admin } from 'kafkajs';
import { KafkaConnection } from '../../src/kafka/kafka-connection';
import { TestEnvironment } from '../support/harness';
import { waitFor } from '../support/wait-for';
import { connectionsTo, freePort, WorkerProcess } from '../support/worker-process';

describe('what the HTTP side costs the brokers', () => {
  const env = new TestEnvironment({ LAG_POLL_INTERVAL_MS: '600000' });
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    await env.setUp(2);
    ({ app, url } = await env.startWorker());
  });

  afterAll(() => env.tearDown());

  it('answers probes and metric scrapes without calling Kafka: lag comes from the last timed reading', async () => {
    await waitFor(async () => (await fetch(`${url}/health/lag`)).status === 200, 'the first lag reading', 30000);
    const admin: Admin = await app.get(KafkaConnection).admin();
    const calls: string[] = [];
    for (const method of ['fetchTopicOffsets', 'fetchOffsets', 'listTopics', 'fetchTopicMetadata', 'describeGroups'] as const) {
      const original = admin[method].bind(admin) as (...args: unknown[]) => unknown;
      jest.spyOn(admin, method).mockImplementation(((...args: unknown[]) => (calls.push(method), original(...args))) as never);
    }
    const statuses = new Set<number>();
    for (let i = 0; i < 25; i++) {
      for (const path of ['/health/live', '/health/ready', '/health/lag', '/metrics']) statuses.add((await fetch(`${url}${path}`)).status);
    }
    expect([...statuses]).toEqual([200]);
    expect(calls).toEqual([]);
  });

  it('opens one client per worker process: the consumer, one producer and one admin', async () => {
    const worker = new WorkerProcess(env.env, await freePort());
    try {
      await worker.start();
      await waitFor(async () => (await fetch(`${worker.url}/health/ready`)).status === 200, 'the worker to join', 60000);
      await waitFor(async () => (await fetch(`${worker.url}/health/lag`)).status === 200, 'a lag reading', 60000);
      // A dead letter makes the producer send.
      await env.publish([{ key: 'x', value: 'not json' }]);
      await env.waitUntilConsumed();
      const brokerPort = Number(process.env.KAFKA_BROKERS!.split(',')[0].split(':')[1]);
      // One broker: the consumer's bootstrap and coordinator sockets, the producer's, the admin's.
      expect(connectionsTo(worker.pid!, brokerPort)).toBeLessThanOrEqual(4);
    } finally {
      await worker.stop('SIGTERM');
    }
  });
});

describe('the HTTP surface: security headers, operator pages off or behind a token, a cached report', () => {
  const token = 'operator-token-for-tests-0123';
  const env = new TestEnvironment({ REPORT_CACHE_SECONDS: '3600' });
  let open: string;
  let off: string;
  let guarded: string;

  beforeAll(async () => {
    await env.setUp(1);
    await env.writeEmbeddings([{ studentId: 's-1', vector: Array.from({ length: 384 }, (_, i) => Math.sin(i)) }]);
    open = (await env.startWorker()).url;
    off = (await env.startWorker({ OPERATOR_PAGES: 'off', KAFKA_GROUP_ID: `${env.name}_off` })).url;
    guarded = (await env.startWorker({ OPERATOR_PAGES: 'on', OPERATOR_TOKEN: token, KAFKA_GROUP_ID: `${env.name}_guarded` })).url;
  });

  afterAll(() => env.tearDown());

  it('sends security headers and no X-Powered-By on pages, probes and API alike', async () => {
    for (const path of ['/graph', '/health/live', '/students/s-1/neighbors', '/docs']) {
      const response = await fetch(`${open}${path}`);
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=/);
    }
  });

  it('answers 404 for every operator page when OPERATOR_PAGES=off, and still serves probes, metrics and the read API', async () => {
    for (const path of ['/docs', '/docs/openapi.json', '/graph', '/graph/report', '/graph/assets/graph.js']) expect([path, (await fetch(`${off}${path}`)).status]).toEqual([path, 404]);
    for (const path of ['/health/live', '/metrics', '/students/s-1/neighbors']) expect([path, (await fetch(`${off}${path}`)).status]).toEqual([path, 200]);
  });

  it('asks for OPERATOR_TOKEN on the operator pages only, as Bearer or HTTP Basic', async () => {
    const withoutToken = await fetch(`${guarded}/graph/report`);
    expect(withoutToken.status).toBe(401);
    expect(withoutToken.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await fetch(`${guarded}/docs/openapi.json`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    expect((await fetch(`${guarded}/graph/report`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const basic = `Basic ${Buffer.from(`ops:${token}`).toString('base64')}`;
    expect((await fetch(`${guarded}/graph`, { headers: { authorization: basic } })).status).toBe(200);
    for (const path of ['/health/ready', '/metrics', '/students/s-1/neighbors']) expect([path, (await fetch(`${guarded}${path}`)).status]).toEqual([path, 200]);
  });

  it('serves the same report for REPORT_CACHE_SECONDS instead of querying the tables on every GET', async () => {
    const first = (await (await fetch(`${open}/graph/report`)).json()) as { generatedAt: string; students: { withEmbedding: number } };
    await env.writeEmbeddings([{ studentId: 's-2', vector: Array.from({ length: 384 }, (_, i) => Math.cos(i)) }]);
    const second = (await (await fetch(`${open}/graph/report`)).json()) as typeof first;
    expect(second).toEqual(first);
    expect(first.students.withEmbedding).toBe(1);
  });
});
