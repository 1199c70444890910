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
