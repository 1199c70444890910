import { repairTopicName } from '../../src/kafka/co-partitioning';
import { seededRandom } from '../../workload/synthetic-vectors';
import { ApproximateGraphJudgment, graphViolations, INDEX_MODE_RECALL_FLOOR, judgeApproximateGraph } from '../support/graph-check';
import { graphLockWaiters, holdGraphLock } from '../support/graph-lock';
import { committedLag, committedTotal, graphSettled, readDeadLetters } from '../support/group-progress';
import { TestEnvironment } from '../support/harness';
import { checkList, exactNeighborsOf } from '../support/oracle';
import { UpstreamSimulator } from '../../workload/upstream-simulator';
import { waitFor } from '../support/wait-for';
import { freePort, WorkerProcess } from '../support/worker-process';
import { FaultRow, reportFaultTable } from './fault-table';

/**
 * Faults of membership and start-up: what a slow batch, a paused process, a huge key, a wrong
 * setting or a missing dependency does to a worker process, judged from outside (HTTP probes,
 * exit codes, the group's offsets, the dead-letter topic and brute force over the vectors).
 */
const K = 10;
const THRESHOLD = 0.15;
const SESSION_TIMEOUT_MS = 6000;
const rows: FaultRow[] = [];

/** Keeps a fault going for `ms`: the fault's own duration, not a wait for a condition. */
const lastFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A worker that must stay in its group with a 6 s session timeout and a 1 s batch budget. */
function membershipSettings(stallTimeoutMs: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MAX_NEIGHBORS: String(K),
    SIMILARITY_THRESHOLD: String(THRESHOLD),
    KAFKA_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
    BATCH_TIME_BUDGET_MS: '1000',
    CONSUMER_STALL_TIMEOUT_MS: String(stallTimeoutMs),
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** The worker's default candidate search (the vector index) judged by the tests' brute force. */
async function judged(env: TestEnvironment, upstream: UpstreamSimulator): Promise<ApproximateGraphJudgment & { note: string }> {
  const judgment = await judgeApproximateGraph(env, upstream.vectors, K, THRESHOLD);
  return { ...judgment, note: `recall@${K} ${judgment.recall.toFixed(4)}` };
}

/** What an index-mode row must show: nothing lost, no hard invariant broken, recall at the floor. */
function expectIndexModeRow(row: FaultRow, judgment: ApproximateGraphJudgment): void {
  expect(row).toMatchObject({ lost: 0, wrong: 0 });
  expect(judgment.problems).toEqual([]);
  expect(judgment.recall).toBeGreaterThanOrEqual(INDEX_MODE_RECALL_FLOOR);
}

async function status(url: string): Promise<number> {
  return fetch(url).then((r) => r.status, () => 0);
}

describe('fault suite: membership and start-up', () => {
  afterAll(() => {
    reportFaultTable(rows, 'fault suite: membership and start-up', 'fault-table-membership.md');
  });

  it('in the default candidate search: a batch held past the session timeout, a SIGSTOP past it, 256 KB and 1 MB keys: nothing lost, never a zombie', async () => {
    // The worker's default mode (the vector index), so wrong rows are broken hard invariants and
    // recall is held to the floor, both against the tests' brute force.
    const env = new TestEnvironment(membershipSettings(30000, { MAX_CONSUMER_LAG: '50' }));
    await env.setUp(2);
    const port = await freePort();
    let worker = new WorkerProcess(env.env, port);
    const workers = [worker];
    try {
      // 1. A first load, sized by time: the longest batch (its transaction included) stays under the session timeout.
      const upstream = new UpstreamSimulator(env, seededRandom(77), 1500);
      await upstream.seed();
      await worker.start();
      const firstLoadStall = await env.waitUntilConsumed(180000).then(() => 0, () => 1);
      const batchMs = [...worker.output.matchAll(/"batchMs":([\d.]+)/g)].map((m) => Number(m[1]));
      const longestBatchMs = Math.max(...batchMs);
      const afterFirstLoad = await judged(env, upstream);
      rows.push({ fault: `first computations of ${upstream.studentIds.length} students at once (BATCH_TIME_BUDGET_MS 1000)`, count: upstream.studentIds.length, lost: await committedLag(env), wrong: afterFirstLoad.problems.length, stalls: firstLoadStall, note: `longest batch ${Math.round(longestBatchMs)} ms, session timeout ${SESSION_TIMEOUT_MS} ms; ${afterFirstLoad.note}` });
      expectIndexModeRow(rows.at(-1)!, afterFirstLoad);
      expect(firstLoadStall).toBe(0);
      expect(batchMs.length).toBeGreaterThan(0);
      expect(longestBatchMs).toBeLessThan(SESSION_TIMEOUT_MS);

      // 2. A batch held in flight for 3.5 session timeouts by a lock wait, with a backlog behind it.
      const lock = await holdGraphLock(env);
      await upstream.stream(300, 50);
      await waitFor(async () => (await graphLockWaiters(env)) > 0, 'a batch waiting on the graph lock', 30000);
      const probes = { ready: new Set<number>(), live: new Set<number>(), lag: new Set<number>() };
      const probing = setInterval(() => {
        void status(`${worker.url}/health/ready`).then((s) => probes.ready.add(s));
        void status(`${worker.url}/health/live`).then((s) => probes.live.add(s));
        void status(`${worker.url}/health/lag`).then((s) => probes.lag.add(s));
      }, 250);
      await lastFor(3.5 * SESSION_TIMEOUT_MS);
      clearInterval(probing);
      await lock.release();
      const heldStall = await env.waitUntilConsumed(60000).then(() => 0, () => 1);
      const evictions = (worker.output.match(/not aware of this member|crashed/g) ?? []).length;
      const joins = (worker.output.match(/joined group/g) ?? []).length;
      const afterHeld = await judged(env, upstream);
      rows.push({
        fault: `a batch held in flight ${(3.5 * SESSION_TIMEOUT_MS) / 1000} s by a lock wait (session timeout ${SESSION_TIMEOUT_MS / 1000} s)`,
        count: 1,
        lost: await committedLag(env),
        wrong: afterHeld.problems.length,
        stalls: heldStall + worker.exits.length,
        note: `group joins ${joins}, evictions/crashes ${evictions}; while held: ready ${[...probes.ready]}, live ${[...probes.live]}, lag check ${[...probes.lag]}; ${afterHeld.note}`,
      });
      expectIndexModeRow(rows.at(-1)!, afterHeld);
      expect(heldStall).toBe(0);
      expect(evictions).toBe(0);
      expect(joins).toBe(1);
      expect(worker.exits).toEqual([]);
      expect([...probes.ready]).toEqual([200]);
      expect([...probes.live]).toEqual([200]);
      expect(probes.lag.has(503)).toBe(true);

      // 3. SIGSTOP for 3.5 session timeouts while events trickle in, then SIGCONT. The test plays
      // the orchestrator: it restarts a worker that exited or whose liveness probe fails.
      let streamed = false;
      const trickle = upstream.stream(200, 10).then(() => (streamed = true));
      worker.signal('SIGSTOP');
      await lastFor(3.5 * SESSION_TIMEOUT_MS);
      worker.signal('SIGCONT');
      const pausedAt = Date.now();
      const recoveries: string[] = [];
      const pauseStall = await waitFor(
        async () => {
          if (!worker.running) {
            recoveries.push(`exited with ${JSON.stringify(worker.exits.at(-1))}, restarted`);
          } else if ((await status(`${worker.url}/health/live`)) === 503) {
            recoveries.push(`liveness 503 after ${Math.round((Date.now() - pausedAt) / 1000)} s, restarted`);
            await worker.stop('SIGKILL');
          } else {
            return streamed && (await graphSettled(env));
          }
          worker = new WorkerProcess(env.env, port);
          workers.push(worker);
          await worker.start();
          return false;
        },
        'the group to consume everything after the pause',
        120000,
        500,
      ).then(() => 0, () => 1);
      const drainedAfterS = Math.round((Date.now() - pausedAt) / 1000);
      await trickle;
      const afterPause = await judged(env, upstream);
      rows.push({
        fault: `SIGSTOP ${(3.5 * SESSION_TIMEOUT_MS) / 1000} s, then SIGCONT, events trickling in`,
        count: 1,
        lost: await committedLag(env),
        wrong: afterPause.problems.length,
        stalls: pauseStall,
        note: `${pauseStall ? 'not drained' : 'drained'} ${drainedAfterS} s after SIGCONT; ${recoveries.length ? recoveries.join('; ') : 'the worker rejoined by itself'}; ${afterPause.note}`,
      });
      expect(pauseStall).toBe(0);
      expectIndexModeRow(rows.at(-1)!, afterPause);

      // 4. Huge keys with valid values, each followed by a good event on the same partition.
      const lettersBefore = (await readDeadLetters(env)).length;
      const hugeKeys = [256 * 1024, 1024 * 1024];
      for (const [i, size] of hugeKeys.entries()) {
        const tracked = upstream.studentIds[i];
        upstream.vectors.set(tracked, upstream.vectors.get(tracked)!.map((x, d) => x + (d % 3) * 0.004));
        await env.writeEmbeddings([{ studentId: tracked, vector: upstream.vectors.get(tracked)!, version: 1000 }]);
        // An explicit partition: the test's own producer must not hash the key either.
        await env.publish([
          { partition: 0, key: Buffer.alloc(size, 0x6b), value: JSON.stringify({ student_id: 's-0500' }) },
          { partition: 0, key: tracked, value: JSON.stringify({ student_id: tracked, version: 1000 }) },
        ]);
      }
      let slowestLiveMs = 0;
      const keyStall = await waitFor(
        async () => {
          const started = Date.now();
          const live = await status(`${worker.url}/health/live`);
          slowestLiveMs = Math.max(slowestLiveMs, Date.now() - started);
          return live === 200 && (await graphSettled(env));
        },
        'the huge keys to be consumed',
        60000,
        100,
      ).then(() => 0, () => 1);
      const letters = (await readDeadLetters(env)).slice(lettersBefore);
      const afterKeys = await judged(env, upstream);
      const stopStarted = Date.now();
      await worker.stop('SIGTERM');
      const stopMs = Date.now() - stopStarted;
      for (const [i, size] of hugeKeys.entries()) {
        const letter = letters.find((l) => l.headers['x-original-key-bytes'] === String(size));
        rows.push({
          fault: `a ${size / 1024} KB key with a valid value`,
          count: 1,
          lost: letter ? 0 : 1,
          wrong: afterKeys.problems.filter((p) => p.startsWith(`${upstream.studentIds[i]}:`)).length,
          stalls: keyStall,
          note: letter ? `dead-lettered as ${letter.category}, key cut to ${letter.key?.length} bytes; slowest /health/live ${slowestLiveMs} ms; SIGTERM exit in ${stopMs} ms; ${afterKeys.note}` : 'no dead letter',
        });
      }
      expect(keyStall).toBe(0);
      expect(letters.map((l) => [l.category, l.key?.length, l.headers['x-original-key-bytes']])).toEqual(hugeKeys.map((size) => ['invalid-key', 1024, String(size)]));
      expect(afterKeys.problems).toEqual([]);
      expect(afterKeys.recall).toBeGreaterThanOrEqual(INDEX_MODE_RECALL_FLOOR);
      expect(slowestLiveMs).toBeLessThan(2000);
      expect(worker.exits.at(-1)).toEqual({ code: 0, signal: null });
    } finally {
      for (const w of workers) await w.stop('SIGKILL');
      await env.tearDown();
    }
  });

  it('SIGSTOP past the session timeout with a batch in flight: the consumer kafkajs gives up on exits the process with code 3, and a restart drains', async () => {
    const env = new TestEnvironment(membershipSettings(15000, { CANDIDATE_SEARCH: 'exact' }));
    await env.setUp(2);
    const port = await freePort();
    let worker = new WorkerProcess(env.env, port);
    const workers = [worker];
    try {
      const upstream = new UpstreamSimulator(env, seededRandom(3), 300);
      await upstream.seed();
      await worker.start();
      await env.waitUntilConsumed();
      // A batch waits on the graph lock while the process is paused: no heartbeat can leave it.
      const lock = await holdGraphLock(env);
      await upstream.stream(200, 50);
      await waitFor(async () => (await graphLockWaiters(env)) > 0, 'a batch waiting on the graph lock', 30000);
      worker.signal('SIGSTOP');
      await lastFor(3.5 * SESSION_TIMEOUT_MS);
      await lock.release();
      worker.signal('SIGCONT');
      // The held batch then commits into a group that evicted this member: kafkajs stops the
      // consumer for good, and the process must exit with code 3 for the orchestrator to restart.
      const paused = worker;
      const exitedAfterMs = await timeUntil(async () => !paused.running, 60000);
      const stoppedForGood = /the Kafka consumer stopped for good/.test(paused.output);
      if (!paused.running) {
        worker = new WorkerProcess(env.env, port);
        workers.push(worker);
        await worker.start();
      }
      const stall = await env.waitUntilConsumed(60000).then(() => 0, () => 1);
      const violations = await graphViolations(env, upstream.vectors, K, THRESHOLD);
      const outcome = exitedAfterMs === null ? 'did not exit within 60 s' : `exited with code ${paused.exits[0].code} after ${Math.round(exitedAfterMs / 1000)} s`;
      const drain = stall ? 'not drained' : exitedAfterMs === null ? 'drained without a restart' : 'drained after a restart';
      rows.push({ fault: `SIGSTOP ${(3.5 * SESSION_TIMEOUT_MS) / 1000} s with a batch in flight, then SIGCONT`, count: 1, lost: await committedLag(env), wrong: violations.length, stalls: stall, note: `${outcome}${stoppedForGood ? ' (consumer stopped for good)' : ''}; ${drain}` });
      expect(paused.exits).toEqual([{ code: 3, signal: null }]);
      expect(stoppedForGood).toBe(true);
      expect(rows.at(-1)).toMatchObject({ lost: 0, wrong: 0 });
      expect(stall).toBe(0);
      expect(violations).toEqual([]);
    } finally {
      for (const w of workers) await w.stop('SIGKILL');
      await env.tearDown();
    }
  });

  it('a wrong EMBEDDING_DIM refuses to start and leaves the graph as it was', async () => {
    const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD) });
    await env.setUp(1);
    const worker = new WorkerProcess(env.env, await freePort());
    const otherGroup = `${env.name}_other_group`;
    const wrong = new WorkerProcess({ ...env.env, EMBEDDING_DIM: '128', KAFKA_GROUP_ID: otherGroup }, await freePort());
    try {
      const upstream = new UpstreamSimulator(env, seededRandom(5), 200);
      await upstream.seed();
      await worker.start();
      await env.waitUntilConsumed();
      await worker.stop('SIGTERM');
      const [{ n: rowsBefore }] = (await env.db.query('SELECT count(*)::int AS n FROM student_similarity')).rows;

      wrong.launch();
      await waitFor(async () => wrong.exits.length > 0, 'the misconfigured worker to exit', 60000);
      const [{ n: rowsAfter }] = (await env.db.query('SELECT count(*)::int AS n FROM student_similarity')).rows;
      const refusal = /EMBEDDING_DIM is 128 but student_embeddings.vec is vector\(384\)/.test(wrong.output);
      // Events its group committed were taken off the topic for that group without being applied.
      const takenUnapplied = await committedTotal(env, env.topic, otherGroup);
      rows.push({ fault: 'EMBEDDING_DIM=128 against a vector(384) column, own consumer group', count: 1, lost: takenUnapplied, wrong: Math.abs(rowsBefore - rowsAfter), stalls: null, note: `exit code ${wrong.exits[0].code}; ${refusal ? 'the log names both dimensions' : 'no sentence naming both'}` });
      expect(wrong.exits[0].code).toBe(1);
      expect(refusal).toBe(true);
      expect(rowsAfter).toBe(rowsBefore);
      expect(takenUnapplied).toBe(0);
      expect(await readDeadLetters(env)).toEqual([]);
    } finally {
      await worker.stop('SIGKILL');
      await wrong.stop('SIGKILL');
      await env.tearDown();
    }
  });

  it('a missing topic: the worker waits, not ready, says what to do, and consumes once it exists; or creates it when told to', async () => {
    const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD), CANDIDATE_SEARCH: 'exact' });
    await env.setUp(1);
    const lateTopic = `${env.name}_late`;
    const createdTopic = `${env.name}_created`;
    const waiting = new WorkerProcess({ ...env.env, STUDENT_EMBEDDING_TOPIC: lateTopic, KAFKA_GROUP_ID: `${env.name}_late_group` }, await freePort());
    const creating = new WorkerProcess({ ...env.env, STUDENT_EMBEDDING_TOPIC: createdTopic, KAFKA_GROUP_ID: `${env.name}_created_group`, KAFKA_CREATE_TOPICS: 'true', KAFKA_TOPIC_PARTITIONS: '2' }, await freePort());
    try {
      const upstream = new UpstreamSimulator(env, seededRandom(9), 50);
      await env.writeEmbeddings([...upstream.vectors].map(([studentId, vector]) => ({ studentId, vector })));
      /** Problems of one student's stored list against the tests' brute force (exact mode). */
      const wrongRowsOf = async (studentId: string) =>
        checkList(studentId, (await env.storedGraph()).get(studentId) ?? [], exactNeighborsOf(studentId, upstream.vectors, K, THRESHOLD), upstream.vectors).problems.length;

      await waiting.start();
      const notReady = await waitFor(async () => {
        const response = await fetch(`${waiting.url}/health/ready`);
        const body = await response.text();
        return response.status === 503 && body.includes(`topic ${lateTopic} does not exist`) ? body : null;
      }, 'readiness to say the topic is missing', 30000);
      const logged = waiting.output.includes('set KAFKA_CREATE_TOPICS=true');
      await env.admin.createTopics({ waitForLeaders: true, topics: [lateTopic, repairTopicName(lateTopic)].map((topic) => ({ topic, numPartitions: 1 })) });
      const readyAfterMs = await timeUntil(async () => (await status(`${waiting.url}/health/ready`)) === 200, 30000);
      await env.producer.send({ topic: lateTopic, messages: [{ key: 's-0001', value: JSON.stringify({ student_id: 's-0001' }) }] });
      const consumed = await waitFor(async () => (await committedLag(env, lateTopic, `${env.name}_late_group`)) === 0, 'the late topic to be consumed', 60000).then(() => true, () => false);
      const wrongLate = await wrongRowsOf('s-0001');
      rows.push({ fault: 'event topic missing at start', count: 1, lost: consumed ? 0 : 1, wrong: wrongLate, stalls: readyAfterMs === null ? 1 : 0, note: `alive, not ready (${notReady.length > 0 ? 'says the topic is missing' : ''}${logged ? ', logged what to do' : ''}); ready ${readyAfterMs} ms after the topic was created` });

      await creating.start();
      const createdReadyMs = await timeUntil(async () => (await status(`${creating.url}/health/ready`)) === 200, 30000);
      const created = (await env.admin.fetchTopicMetadata({ topics: [createdTopic] })).topics[0];
      await env.producer.send({ topic: createdTopic, messages: [{ key: 's-0002', value: JSON.stringify({ student_id: 's-0002' }) }] });
      const consumedCreated = await waitFor(async () => (await committedLag(env, createdTopic, `${env.name}_created_group`)) === 0, 'the created topic to be consumed', 60000).then(() => true, () => false);
      const wrongCreated = await wrongRowsOf('s-0002');
      rows.push({ fault: 'event topic missing at start, KAFKA_CREATE_TOPICS=true', count: 1, lost: consumedCreated ? 0 : 1, wrong: wrongCreated, stalls: createdReadyMs === null ? 1 : 0, note: `created with ${created.partitions.length} partitions; ready in ${createdReadyMs} ms` });

      expect(waiting.exits).toEqual([]);
      expect(logged).toBe(true);
      expect(readyAfterMs).not.toBeNull();
      expect(consumed).toBe(true);
      expect(wrongLate).toBe(0);
      expect(createdReadyMs).not.toBeNull();
      expect(created.partitions).toHaveLength(2);
      expect(consumedCreated).toBe(true);
      expect(wrongCreated).toBe(0);
    } finally {
      await waiting.stop('SIGTERM');
      await creating.stop('SIGTERM');
      await env.admin.deleteTopics({ topics: [lateTopic, repairTopicName(lateTopic), createdTopic, repairTopicName(createdTopic), `${createdTopic}.dlq`] }).catch(() => undefined);
      await env.tearDown();
    }
  });

  it('an unreachable database or broker at start: each retry is logged as it happens', async () => {
    const env = new TestEnvironment({ MAX_NEIGHBORS: String(K) });
    await env.setUp(1);
    const closedPort = await freePort();
    const noDatabase = new WorkerProcess({ ...env.env, DB_URL: `postgres://postgres@127.0.0.1:${closedPort}/nowhere` }, await freePort());
    const noBroker = new WorkerProcess({ ...env.env, KAFKA_BROKERS: `127.0.0.1:${closedPort}` }, await freePort());
    try {
      for (const [name, worker, retryLine] of [
        ['PostgreSQL', noDatabase, /Unable to connect to the database[^"]*Retrying \(2\)/],
        ['Kafka', noBroker, /ECONNREFUSED[\s\S]*ECONNREFUSED/],
      ] as const) {
        worker.launch();
        const seenAfterMs = await timeUntil(async () => retryLine.test(worker.output), 30000);
        rows.push({ fault: `${name} unreachable at start`, count: 1, lost: null, wrong: null, stalls: seenAfterMs === null ? 1 : 0, note: seenAfterMs === null ? 'no retry logged' : `second retry logged ${seenAfterMs} ms after launch, while still retrying (${worker.running ? 'running' : 'exited'})` });
        expect(seenAfterMs).not.toBeNull();
        expect(worker.running).toBe(true);
      }
    } finally {
      await noDatabase.stop('SIGKILL');
      await noBroker.stop('SIGKILL');
      await env.tearDown();
    }
  });
});

/** Milliseconds until `condition` holds, or null when it does not within `timeoutMs`. */
async function timeUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const started = Date.now();
  return waitFor(condition, 'the condition', timeoutMs).then(() => Date.now() - started, () => null);
}
