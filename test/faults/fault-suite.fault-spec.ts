import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { seededRandom } from '../../workload/synthetic-vectors';
import { graphViolations } from '../support/graph-check';
import { graphLockWaiters, holdGraphLock } from '../support/graph-lock';
import { committedLag, committedTotal, readDeadLetters } from '../support/group-progress';
import { TestEnvironment } from '../support/harness';
import { UpstreamSimulator } from '../../workload/upstream-simulator';
import { waitFor } from '../support/wait-for';
import { freePort, WorkerProcess } from '../support/worker-process';
import { FaultRow, reportFaultTable } from './fault-table';

const K = 10;
const THRESHOLD = 0.15;
const SECRET = 's3cret-Pa55word';
const rows: FaultRow[] = [];

function services(action: 'start' | 'stop', which: 'postgres' | 'kafka'): void {
  execFileSync('bash', [`scripts/services/${action}.sh`, which], { stdio: 'inherit' });
}

/** Waits for the group to catch up; a timeout counts as a stall instead of failing at once. */
async function drained(env: TestEnvironment, timeoutMs = 120000): Promise<number> {
  try {
    await env.waitUntilConsumed(timeoutMs);
    return 0;
  } catch {
    return 1;
  }
}

describe('fault suite: nothing lost, nothing wrong, never stalled', () => {
  afterAll(() => {
    reportFaultTable(rows);
  });

  it('bad input: each kind is dead-lettered or applied safely, and the good event after it still lands', async () => {
    const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD), CANDIDATE_SEARCH: 'exact' });
    await env.setUp(2);
    const worker = new WorkerProcess({ ...env.env, LOG_LEVEL: 'info' }, await freePort());
    try {
      const upstream = new UpstreamSimulator(env, seededRandom(31), 120);
      await upstream.seed();
      await worker.start();
      await env.waitUntilConsumed();

      const hostileId = "x'); DROP TABLE student_similarity; --";
      const zeroId = 'zero-vector-student';
      await env.writeEmbeddings([{ studentId: hostileId, vector: upstream.vectors.get('s-0001')!.map((x) => x * 2) }]);
      await env.writeEmbeddings([{ studentId: zeroId, vector: new Array(384).fill(0) }]);
      const refusedWrites: Record<string, string> = {};
      for (const [name, vector] of [['NaN', [NaN, ...new Array(383).fill(0.1)]], ['Infinity', [Infinity, ...new Array(383).fill(0.1)]], ['wrong dimension', [0.1, 0.2, 0.3]]] as const) {
        await env.writeEmbeddings([{ studentId: `bad-${name}`, vector: [...vector] }]).then(
          () => (refusedWrites[name] = 'accepted'),
          (error: Error) => (refusedWrites[name] = error.message),
        );
      }
      const cases: { fault: string; key: string | null; value: string | Buffer | null; dead: string | null }[] = [
        { fault: 'malformed JSON', key: 'a', value: '{"student_id": "a",', dead: 'invalid-json' },
        { fault: 'JSON that is not an object (array)', key: 'a', value: '[1,2,3]', dead: 'invalid-json' },
        { fault: 'JSON that is not an object (number)', key: 'a', value: '42', dead: 'invalid-json' },
        { fault: 'missing student_id', key: 'a', value: '{"version": 1}', dead: 'invalid-field' },
        { fault: 'empty student_id', key: null, value: '{"student_id": ""}', dead: 'invalid-field' },
        { fault: 'student_id over 256 characters', key: null, value: JSON.stringify({ student_id: 'y'.repeat(300) }), dead: 'invalid-field' },
        { fault: 'control characters in student_id', key: null, value: JSON.stringify({ student_id: 'a\u0007b' }), dead: 'invalid-field' },
        { fault: 'unknown op', key: 's-0002', value: '{"student_id": "s-0002", "op": "merge"}', dead: 'invalid-field' },
        { fault: 'negative version', key: 's-0002', value: '{"student_id": "s-0002", "version": -1}', dead: 'invalid-field' },
        { fault: 'non-integer version', key: 's-0002', value: '{"student_id": "s-0002", "version": 1.5}', dead: 'invalid-field' },
        { fault: 'key and student_id disagree', key: 's-0003', value: '{"student_id": "s-0004"}', dead: 'key-mismatch' },
        { fault: 'a 10 MB message', key: 's-0002', value: Buffer.alloc(10 * 1024 * 1024, 0x61), dead: 'too-large' },
        { fault: 'SQL in a student id (applied as data)', key: hostileId, value: JSON.stringify({ student_id: hostileId }), dead: null },
        { fault: 'student with no embedding (no-op)', key: 'nobody', value: '{"student_id": "nobody"}', dead: null },
        { fault: 'zero-vector embedding', key: zeroId, value: JSON.stringify({ student_id: zeroId }), dead: 'zero-vector' },
        { fault: 'NaN / Infinity / wrong-dimension vector (refused at write, event is a no-op)', key: 'bad-NaN', value: '{"student_id": "bad-NaN"}', dead: null },
      ];
      // Each bad record is followed, on the same partition, by a good event that must land.
      const tracked = cases.map((_, i) => `s-${String(10 + i).padStart(4, '0')}`);
      // Each good event names itself, so that its landing is seen in its student's list (every
      // student already has a list from the seed, so a list alone proves nothing).
      const goodEventIds = tracked.map(() => randomUUID());
      for (const [i, c] of cases.entries()) {
        upstream.vectors.set(tracked[i], upstream.vectors.get(tracked[i])!.map((x, d) => x + (d % 5) * 0.003));
        await env.writeEmbeddings([{ studentId: tracked[i], vector: upstream.vectors.get(tracked[i])!, version: 2 }]);
        await env.producer.send({
          topic: env.topic,
          messages: [
            { partition: i % 2, key: c.key, value: c.value },
            { partition: i % 2, key: tracked[i], value: JSON.stringify({ student_id: tracked[i], event_id: goodEventIds[i], version: 2 }) },
          ],
        });
      }
      const stalls = await drained(env);
      upstream.vectors.set(hostileId, upstream.vectors.get('s-0001')!.map((x) => x * 2));
      const violations = await graphViolations(env, upstream.vectors, K, THRESHOLD);
      const letters = await readDeadLetters(env);
      const graph = await env.storedGraph();
      const landed = tracked.map((id, i) => (graph.get(id) ?? []).some((n) => n.lastEvent === goodEventIds[i]));
      const hostile = await env.db.query('SELECT count(*)::int AS n FROM student_similarity WHERE a = $1', [hostileId]);
      const lag = await committedLag(env);

      const wrongRowsOf = (studentId: string | null) => (studentId === null ? 0 : violations.filter((v) => v.startsWith(`${studentId}:`) || v.startsWith(`${studentId} `)).length);
      for (const [i, c] of cases.entries()) {
        const deadOk = c.dead === null ? true : letters.some((l) => l.category === c.dead);
        const note = c.dead ? `dead-lettered as ${c.dead}` : c.fault.startsWith('SQL') ? `stored as data: ${hostile.rows[0].n} neighbours` : c.fault.startsWith('NaN') ? `refused at write by pgvector: ${Object.keys(refusedWrites).filter((k) => refusedWrites[k] !== 'accepted').join(', ')}` : 'no-op';
        rows.push({ fault: c.fault, count: 1, lost: (landed[i] ? 0 : 1) + (deadOk ? 0 : 1), wrong: wrongRowsOf(tracked[i]) + wrongRowsOf(c.key), stalls, note });
      }
      rows.push({ fault: 'graph after all bad input', count: cases.length, lost: lag + landed.filter((l) => !l).length, wrong: violations.length, stalls, note: 'invariant checked against brute force' });

      expect(rows.slice(-cases.length - 1).filter((r) => r.lost !== 0 || r.wrong !== 0 || r.stalls !== 0)).toEqual([]);
      expect(lag).toBe(0);
      expect(violations).toEqual([]);
      expect(hostile.rows[0].n).toBeGreaterThan(0);
      expect(Object.values(refusedWrites).every((m) => m !== 'accepted')).toBe(true);
      expect(landed.every(Boolean)).toBe(true);
      expect(letters.map((l) => l.category).sort()).toEqual(cases.flatMap((c) => (c.dead ? [c.dead] : [])).sort());
      expect(worker.output).not.toMatch(/"level":60/);
    } finally {
      await worker.stop('SIGTERM');
      await env.tearDown();
    }
  });

  it('SIGKILL 10 times, a broker restart and a database restart during a stream: every event applied, graph exact', async () => {
    const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD), NEIGHBOR_RESERVE: '5', BATCH_MAX_EVENTS: '40', MAX_CONSUMER_LAG: '200', RETRY_MAX_DELAY_MS: '1000', KAFKA_SESSION_TIMEOUT_MS: '6000', CANDIDATE_SEARCH: 'exact' });
    await env.setUp(3);
    const port = await freePort();
    const workerEnv = { ...env.env, DB_URL: env.databaseUrl.replace('postgres@', `postgres:${SECRET}@`) };
    let worker = new WorkerProcess(workerEnv, port);
    const workers = [worker];
    const outputs: string[] = [];
    try {
      const upstream = new UpstreamSimulator(env, seededRandom(4242), 300);
      await upstream.seed();
      await worker.start();

      // 1. SIGKILL mid-stream, ten times, each after the group has committed some progress.
      let streamDone = false;
      const streaming = upstream.stream(3000, 25).then(() => (streamDone = true));
      let kills = 0;
      let killStalls = 0;
      for (; kills < 10; kills++) {
        const before = await committedTotal(env);
        // A stall: events wait, yet nothing is committed for a minute.
        const moving = async () => (await committedTotal(env)) > before || (streamDone && (await committedLag(env)) === 0);
        const progressed = await waitFor(moving, 'progress before a kill', 60000).then(() => true, () => false);
        if (!progressed) killStalls++;
        await worker.stop('SIGKILL');
        outputs.push(worker.output);
        worker = new WorkerProcess(workerEnv, port);
        workers.push(worker);
        await worker.start();
      }
      await streaming;
      const killDrain = await drained(env);
      const afterKills = await graphViolations(env, upstream.vectors, K, THRESHOLD);
      // Events lost are counted once the last stream is in (below), for these three rows at once.
      rows.push({ fault: 'worker SIGKILL mid-batch', count: kills, lost: null, wrong: afterKills.length, stalls: killStalls + killDrain });

      // 2. The broker restarts while the worker runs; then more events.
      services('stop', 'kafka');
      services('start', 'kafka');
      await upstream.stream(600, 50);
      const brokerStall = await drained(env);
      const afterBroker = await graphViolations(env, upstream.vectors, K, THRESHOLD);
      rows.push({ fault: 'Kafka broker restart', count: 1, lost: null, wrong: afterBroker.length, stalls: brokerStall });

      // 3. The database restarts with a backlog waiting: readiness must say so, then recover.
      await upstream.stream(800, 100);
      services('stop', 'postgres');
      const notReady = await waitFor(async () => (await fetch(`${worker.url}/health/ready`)).status === 503, 'not ready while the database is down', 30000).then(() => true, () => false);
      const downBody = await (await fetch(`${worker.url}/health/ready`)).text();
      services('start', 'postgres');
      const dbStall = await drained(env);
      const readyAgain = await waitFor(async () => (await fetch(`${worker.url}/health/ready`)).status === 200, 'ready again', 60000).then(() => true, () => false);
      const afterDb = await graphViolations(env, upstream.vectors, K, THRESHOLD);
      rows.push({ fault: 'PostgreSQL restart (backlog waiting)', count: 1, lost: null, wrong: afterDb.length, stalls: dbStall, note: `ready: 503 while down (${notReady}), 200 after (${readyAgain})` });

      // Every valid event was applied: the group committed everything and nothing valid was dead-lettered.
      const letters = await readDeadLetters(env);
      const lag = await committedLag(env);
      rows[rows.length - 3].lost = rows[rows.length - 2].lost = rows[rows.length - 1].lost = lag + letters.length;
      const metrics = await (await fetch(`${worker.url}/metrics`)).text();
      outputs.push(worker.output);

      expect([killStalls, killDrain, brokerStall, dbStall]).toEqual([0, 0, 0, 0]);
      expect(afterKills).toEqual([]);
      expect(afterBroker).toEqual([]);
      expect(afterDb).toEqual([]);
      expect(letters).toEqual([]);
      expect(lag).toBe(0);
      expect(notReady).toBe(true);
      expect(readyAgain).toBe(true);
      // Each kill ended a running worker by SIGKILL; no worker ended any other way.
      const exits = workers.flatMap((w) => w.exits);
      expect(exits.filter((e) => e.signal === 'SIGKILL')).toHaveLength(10);
      expect(exits).toHaveLength(10);
      // No secret in logs, health output or metrics.
      const secretSeen = [...outputs, downBody, metrics].some((text) => text.includes(SECRET));
      rows.push({ fault: 'DB password in logs, /health/ready or /metrics', count: outputs.length + 2, lost: null, wrong: secretSeen ? 1 : 0, stalls: null });
      expect(secretSeen).toBe(false);
    } finally {
      await worker.stop('SIGTERM');
      await env.tearDown();
    }
  });

  it('SIGTERM with a batch in flight: it finishes and commits, the group is left, within the deadline', async () => {
    const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD), BATCH_MAX_EVENTS: '200', SHUTDOWN_TIMEOUT_MS: '20000', CANDIDATE_SEARCH: 'exact' });
    await env.setUp(1);
    const worker = new WorkerProcess({ ...env.env, LOG_LEVEL: 'info' }, await freePort());
    try {
      const upstream = new UpstreamSimulator(env, seededRandom(8), 400);
      await worker.start();
      await upstream.seed();
      await env.waitUntilConsumed();
      const committedBefore = await committedTotal(env);

      // The graph lock held from here keeps the next batch waiting inside its transaction.
      const lock = await holdGraphLock(env);
      await upstream.stream(100, 50);
      await waitFor(async () => (await graphLockWaiters(env)) > 0, 'a batch in flight, waiting on the graph lock', 30000);
      const started = Date.now();
      const stopped = worker.stop('SIGTERM');
      await waitFor(async () => /waiting up to \d+ ms for 1 batch\(es\) in flight/.test(worker.output), 'the worker to wait for its batch', 10000);
      await lock.release();
      await stopped;
      const stoppedMs = Date.now() - started;
      const committedAtStop = await committedTotal(env);

      const restarted = new WorkerProcess(env.env, await freePort());
      await restarted.start();
      const stall = await drained(env);
      await restarted.stop('SIGTERM');
      const violations = await graphViolations(env, upstream.vectors, K, THRESHOLD);
      rows.push({
        fault: 'SIGTERM during a batch (held in flight by the graph lock)',
        count: 1,
        lost: await committedLag(env),
        wrong: violations.length,
        stalls: stall,
        note: `stopped in ${stoppedMs} ms; the batch in flight committed ${committedAtStop - committedBefore} offsets during shutdown`,
      });

      // Nest closes the app on SIGTERM and exits with process.exit(0) (useProcessExit).
      expect(worker.exits).toEqual([{ code: 0, signal: null }]);
      expect(worker.output).toMatch(/batch in flight finished/);
      expect(worker.output).toMatch(/left the consumer group/);
      expect(committedAtStop).toBeGreaterThan(committedBefore);
      expect(stoppedMs).toBeLessThan(20000 + 5000);
      expect(stall).toBe(0);
      expect(violations).toEqual([]);
    } finally {
      await env.tearDown();
    }
  });
});
