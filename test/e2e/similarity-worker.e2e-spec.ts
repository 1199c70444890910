import { randomUUID } from 'node:crypto';
import { partitionOfKey } from '../../src/kafka/partition-of-key';
import { checkList, exactGraph } from '../support/oracle';
import { runCli } from '../support/cli';
import { TestEnvironment } from '../support/harness';
import { clusteredVectors, seededRandom } from '../../workload/synthetic-vectors';
import { waitFor } from '../support/wait-for';

const K = 15;
const THRESHOLD = 0.1;

describe('similarity worker end to end (real Kafka, real PostgreSQL+pgvector)', () => {
  const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD), CANDIDATE_SEARCH: 'exact' });
  const vectors = new Map<string, number[]>();
  let workerUrl: string;

  beforeAll(async () => {
    await env.setUp(3);
    const random = seededRandom(7);
    // Many small clusters: some students have fewer than K others above the threshold.
    clusteredVectors(random, 240, 384, 40, 1).forEach((vector, i) => vectors.set(`student-${String(i).padStart(3, '0')}`, vector));
    await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector, version: 1 })));
    ({ url: workerUrl } = await env.startWorker());
  });

  afterAll(() => env.tearDown());

  it('stores for every student its exact top-K above the threshold, with the event that caused it', async () => {
    const eventIds = new Map<string, string>();
    await env.publish(
      [...vectors.keys()].map((studentId) => {
        const eventId = randomUUID();
        eventIds.set(studentId, eventId);
        return { key: studentId, value: JSON.stringify({ student_id: studentId, event_id: eventId, version: 1, extra: 'ignored' }) };
      }),
    );
    await env.waitUntilConsumed();

    const stored = await env.storedGraph();
    const exact = exactGraph(vectors, K, THRESHOLD);
    const problems: string[] = [];
    let shortLists = 0;
    for (const [studentId, expected] of exact) {
      const list = stored.get(studentId) ?? [];
      if (expected.length < K) shortLists++;
      expect(list.every((n) => n.studentId !== studentId)).toBe(true);
      expect(list.length).toBeLessThanOrEqual(K);
      expect(list.every((n) => n.similarity >= THRESHOLD - 1e-6)).toBe(true);
      expect(list.every((n) => n.lastEvent === eventIds.get(studentId))).toBe(true);
      for (const p of checkList(studentId, list, expected, vectors).problems) problems.push(`${studentId}: ${p}`);
    }
    expect(problems).toEqual([]);
    // The data must exercise the threshold, or this test proves less than it claims.
    expect(shortLists).toBeGreaterThan(10);
    expect(shortLists).toBeLessThan(exact.size);
  });

  it('dead-letters a malformed event and still processes the next good event on the same partition', async () => {
    const studentId = 'student-000';
    const eventId = randomUUID();
    await env.writeEmbeddings([{ studentId, vector: vectors.get('student-001')!.map((x, i) => x + (i % 7) * 0.01), version: 2 }]);
    await env.producer.send({
      topic: env.topic,
      messages: [
        { partition: 0, key: 'broken', value: '{"student_id": "broken", ' },
        { partition: 0, key: 'x', value: JSON.stringify({ student_id: 'x', version: -1 }) },
        { partition: 0, key: studentId, value: JSON.stringify({ student_id: studentId, event_id: eventId, version: 2 }) },
      ],
    });
    await env.waitUntilConsumed();

    const list = (await env.storedGraph()).get(studentId) ?? [];
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((n) => n.lastEvent === eventId)).toBe(true);

    const deadLetters = await readDeadLetters(env, 2);
    expect(deadLetters.map((d) => d.reason)).toEqual([expect.stringMatching(/not JSON/), expect.stringMatching(/version/)]);
    expect(deadLetters[0].value).toBe('{"student_id": "broken", ');
    expect(deadLetters[0].key).toBe('broken');
  });

  it('dead-letters a zero-vector embedding, and replay-dlq brings the event back once the vector is fixed', async () => {
    await env.writeEmbeddings([{ studentId: 'zero-1', vector: new Array(384).fill(0), version: 1 }]);
    await env.publish([{ key: 'zero-1', value: JSON.stringify({ student_id: 'zero-1', version: 1 }) }]);
    await env.waitUntilConsumed();
    expect((await env.storedGraph()).get('zero-1')).toBeUndefined();
    const { rows: pointing } = await env.db.query(`SELECT count(*)::int AS n FROM student_similarity WHERE b = 'zero-1' OR sim = 'NaN'`);
    expect(pointing[0].n).toBe(0);

    const dryRun = runCli(['replay-dlq', '--dry-run'], env.env);
    expect(dryRun.status).toBe(0);
    expect(dryRun.stdout).toMatch(/would replay 3 dead letters/);
    expect(dryRun.stdout).toMatch(/key=zero-1: embedding is a zero vector/);

    await env.writeEmbeddings([{ studentId: 'zero-1', vector: vectors.get('student-010')!, version: 1 }]);
    const replay = runCli(['replay-dlq'], env.env);
    expect(replay.status).toBe(0);
    expect(replay.stdout).toMatch(/replayed 3 dead letters/);
    await env.waitUntilConsumed();
    const list = (await env.storedGraph()).get('zero-1') ?? [];
    expect(list[0]).toMatchObject({ studentId: 'student-010' });
    expect(list[0].similarity).toBeCloseTo(1, 4);
    // Each letter is replayed once: a second run finds only what bounced back (the two malformed ones).
    expect(runCli(['replay-dlq', '--dry-run'], env.env).stdout).toMatch(/would replay 2 dead letters/);
  });

  it("forwards an event that arrived on another partition than its student's (no key) to its student's partition, where its owner applies it", async () => {
    const partitionCount = 3;
    const studentId = [...vectors.keys()].find((id) => partitionOfKey(id, partitionCount) !== 0)!;
    const forwarded = async () => Number(/^similarity_events_forwarded_total (\S+)$/m.exec(await (await fetch(`${workerUrl}/metrics`)).text())?.[1] ?? 0);
    const forwardedBefore = await forwarded();
    const eventId = randomUUID();
    await env.writeEmbeddings([{ studentId, vector: vectors.get('student-020')!.map((x, i) => x + (i % 5) * 0.01), version: 3 }]);
    await env.producer.send({ topic: env.topic, messages: [{ partition: 0, key: null, value: JSON.stringify({ student_id: studentId, event_id: eventId, version: 3 }) }] });
    await env.waitUntilConsumed();

    await waitFor(async () => (await forwarded()) === forwardedBefore + 1 || null, 'the forwarded counter to count the event', 10000);
    const list = await waitFor(async () => {
      const stored = (await env.storedGraph()).get(studentId) ?? [];
      return stored.length > 0 && stored.every((n) => n.lastEvent === eventId) ? stored : null;
    }, "the student's list to carry the forwarded event", 30000);
    expect(list[0].studentId).toBe('student-020');
  });

  it('serves the read API, its OpenAPI document and Prometheus metrics', async () => {
    // Its own events: a good one for student-005 and a malformed one, whatever ran before.
    await env.publish([
      { key: 'student-005', value: JSON.stringify({ student_id: 'student-005', event_id: randomUUID() }) },
      { key: 'student-005', value: '{"student_id": ' },
    ]);
    await env.waitUntilConsumed();
    const stored = (await env.storedGraph()).get('student-005')!;
    expect(stored.length).toBeGreaterThan(0);
    const response = await fetch(`${workerUrl}/students/student-005/neighbors`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as any;
    expect(body.neighbors.map((n: { studentId: string }) => n.studentId)).toEqual(stored.map((n) => n.studentId));
    expect((await fetch(`${workerUrl}/students/nobody/neighbors`)).status).toBe(404);
    expect((await fetch(`${workerUrl}/students/${'x'.repeat(300)}/neighbors`)).status).toBe(400);
    expect((await fetch(`${workerUrl}/students/a%01b/neighbors`)).status).toBe(400);

    const report = (await (await fetch(`${workerUrl}/graph/report`)).json()) as any;
    const { rows } = await env.db.query('SELECT count(*)::int AS n FROM student_embeddings');
    expect(report.students.withEmbedding).toBe(rows[0].n);
    expect(report.edges).toBeGreaterThan(0);
    expect(report.similarity.histogram.reduce((sum: number, b: { count: number }) => sum + b.count, 0)).toBe(report.edges);

    const openApi = (await (await fetch(`${workerUrl}/docs/openapi.json`)).json()) as any;
    expect(Object.keys(openApi.paths)).toEqual(expect.arrayContaining(['/students/{id}/neighbors', '/graph/report']));

    // Lag is read on a timer, so the gauge catches up within a poll interval.
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${workerUrl}/metrics`)).text();
      return /similarity_consumer_lag\{partition="0"\} 0/.test(text) ? text : null;
    }, 'the lag gauge to read 0', 10000);
    expect(metrics).toMatch(/similarity_events_dead_lettered_total\{reason="invalid-json"\} [1-9]/);
    expect(metrics).toMatch(/similarity_events_applied_total\{outcome="recomputed"\} [1-9]/);
    expect(metrics).toMatch(/similarity_event_to_commit_seconds_count [1-9]/);
    expect(metrics).toMatch(/similarity_owner_lock_wait_seconds_count [1-9]/);
    expect(Number(/^similarity_batch_duration_max_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(Number(/^similarity_graph_transaction_max_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/similarity_repairs_produced_total [1-9]/);
    expect(metrics).toMatch(/similarity_repairs_applied_total [1-9]/);
    expect(metrics).toMatch(/similarity_event_to_settled_seconds_count [1-9]/);
    expect(metrics).toMatch(/similarity_consumer_phase\{phase="running"\} 1/);
  });

  it('reports ready with both services up, and not ready while the database is down', async () => {
    const live = await fetch(`${workerUrl}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${workerUrl}/health/ready`);
    const body = (await ready.json()) as any;
    expect(ready.status).toBe(200);
    expect(body.info.database.status).toBe('up');
    expect(body.info.kafka_consumer).toMatchObject({ status: 'up', phase: 'running' });
    const lag = await waitFor(async () => {
      const response = await fetch(`${workerUrl}/health/lag`);
      const json = (await response.json()) as any;
      return response.status === 200 && json.info.kafka_consumer_lag.totalLag === 0 ? json : null;
    }, 'the lag check to read 0', 10000);
    expect(lag.info.kafka_consumer_lag.partitions.length).toBeGreaterThan(0);

    await services('stop', 'postgres');
    try {
      const down = await waitFor(async () => {
        const response = await fetch(`${workerUrl}/health/ready`);
        return response.status === 503 ? response : null;
      }, 'readiness to fail with the database stopped', 30000);
      const downBody = (await down.json()) as any;
      expect(downBody.error.database.status).toBe('down');
      expect((await fetch(`${workerUrl}/health/live`)).status).toBe(200);
    } finally {
      await services('start', 'postgres');
    }
    await waitFor(async () => (await fetch(`${workerUrl}/health/ready`)).status === 200, 'readiness to return', 30000);
  });
});

async function readDeadLetters(env: TestEnvironment, count: number) {
  const { Kafka } = await import('kafkajs');
  const consumer = new Kafka({ clientId: 'dlq-reader', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: 1 }).consumer({ groupId: `${env.name}-dlq-reader` });
  const letters: { key: string; value: string; reason: string }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: env.deadLetterTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      letters.push({ key: message.key!.toString(), value: message.value!.toString(), reason: message.headers!['x-dead-letter-reason']!.toString() });
    },
  });
  try {
    await waitFor(async () => letters.length >= count, `${count} dead letters`, 30000);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

async function services(action: 'start' | 'stop', which: string): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  execFileSync('bash', [`scripts/services/${action}.sh`, which], { stdio: 'inherit' });
}
