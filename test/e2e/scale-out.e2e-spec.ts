import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/app-config';
import { repairTopicName } from '../../src/kafka/co-partitioning';
import { seededRandom } from '../../workload/synthetic-vectors';
import { UpstreamSimulator } from '../../workload/upstream-simulator';
import { graphViolations, INDEX_MODE_RECALL_FLOOR, judgeApproximateGraph } from '../support/graph-check';
import { groupLag } from '../support/group-progress';
import { TestEnvironment } from '../support/harness';
import { waitFor } from '../support/wait-for';
import { freePort, WorkerProcess } from '../support/worker-process';

/**
 * Several worker processes in one group over a 6-partition topic, with members joining, leaving,
 * dying and pausing while the stream runs: the stored graph must still be what the tests' brute
 * force says, and a paused worker that lost its partitions must not write when it wakes up.
 */

/** What a worker logs when the owners table refuses its write (the domain's FencedError and its message). */
const FENCE_PATTERN = /FencedError|fenced on partition \d+/;
/** The table that records which member owns each partition and its epoch; the fence reads it. */
const OWNERS_TABLE = 'graph_partition_owners';
const PARTITIONS = 6;
/** The smallest session timeout the config accepts: a killed or paused member is evicted fast. */
const SESSION_TIMEOUT_MS = '6000';
const CASE_TIMEOUT_MS = 240000;

const K = 10;
const THRESHOLD = 0.15;
const exactSettings = { MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD), NEIGHBOR_RESERVE: '5', BATCH_MAX_EVENTS: '100', CANDIDATE_SEARCH: 'exact' };
/** Membership only: the graph settings stay the worker's own. Info logs carry each join's member id. */
const membershipSettings = { KAFKA_SESSION_TIMEOUT_MS: SESSION_TIMEOUT_MS, LOG_LEVEL: 'info' };

/** Whether a migration creates the owners table: the fence exists only in that design. */
const ownersTableMigrated = readdirSync(join(__dirname, '../../migrations')).some((file) => readFileSync(join(__dirname, '../../migrations', file), 'utf8').includes(OWNERS_TABLE));
if (!ownersTableMigrated) {
  console.warn(`scale-out e2e: no migration creates ${OWNERS_TABLE}; the fencing checks are skipped (they need the one-writer-per-list design)`);
}

interface Owner {
  partition: number;
  epoch: number;
  memberId: string;
}

async function readOwners(env: TestEnvironment): Promise<Owner[]> {
  const { rows } = await env.db.query(`SELECT partition, epoch, member_id FROM ${OWNERS_TABLE} ORDER BY partition`);
  return rows.map((r) => ({ partition: Number(r.partition), epoch: Number(r.epoch), memberId: r.member_id }));
}

/** Waits until the owners table names, for every partition, the member whose latest join holds it. */
async function waitForOwnersOf(env: TestEnvironment, joins: Map<WorkerProcess, { memberId: string; partitions: number[] }>): Promise<Owner[]> {
  const expected = [...joins.values()].flatMap((j) => j.partitions.map((partition) => ({ partition, memberId: j.memberId }))).sort((x, y) => x.partition - y.partition);
  return waitFor(
    async () => {
      const owners = await readOwners(env);
      return JSON.stringify(owners.map(({ partition, memberId }) => ({ partition, memberId }))) === JSON.stringify(expected) ? owners : null;
    },
    `the owners table to name the members that joined last (${JSON.stringify(expected)})`,
    60000,
    250,
  );
}

/** The harness creates the input topic; the repairs topic is created here when it has not. */
async function ensureRepairTopic(env: TestEnvironment): Promise<void> {
  const topic = repairTopicName(env.topic);
  if ((await env.admin.listTopics()).includes(topic)) return;
  await env.admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] }).catch(async (error) => {
    if (!(await env.admin.listTopics()).includes(topic)) throw error;
  });
}

/** The member id and input partitions of a worker's latest join, from its log; null before it joined. */
function latestJoin(worker: WorkerProcess, topic: string): { memberId: string; partitions: number[] } | null {
  let latest: { memberId: string; partitions: number[] } | null = null;
  for (const line of worker.output.split('\n')) {
    if (!line.includes('joined group')) continue;
    let message = line;
    try {
      const parsed = JSON.parse(line);
      message = parsed.msg ?? parsed.message ?? line;
    } catch {
      // not a JSON line: match the text itself
    }
    const match = /joined group \S+ as (\S+); partitions (\{.*\})/.exec(message);
    if (match) latest = { memberId: match[1], partitions: JSON.parse(match[2])[topic] ?? [] };
  }
  return latest;
}

/**
 * Waits until the latest joins of exactly `workers` split every partition between them, each
 * holding some: the group has settled on these members.
 */
async function waitForAssignment(env: TestEnvironment, workers: WorkerProcess[], what: string): Promise<Map<WorkerProcess, { memberId: string; partitions: number[] }>> {
  return waitFor(
    async () => {
      const joins = new Map(workers.map((w) => [w, latestJoin(w, env.topic)]));
      const held = [...joins.values()].flatMap((j) => j?.partitions ?? []);
      const settled = [...joins.values()].every((j) => j && j.partitions.length > 0) && held.length === PARTITIONS && new Set(held).size === PARTITIONS;
      return settled ? (joins as Map<WorkerProcess, { memberId: string; partitions: number[] }>) : null;
    },
    what,
    90000,
    250,
  );
}

/**
 * Waits until the group has committed everything on the input and the repairs topics, on two
 * readings in a row with the same high watermarks: nothing in flight, nothing produced since.
 */
async function waitUntilSettled(env: TestEnvironment, timeoutMs = 120000): Promise<string> {
  let previous = '';
  return waitFor(
    async () => {
      const { lag, highWatermarks } = await groupLag(env);
      const idle = Object.values(lag).every((n) => n === 0);
      const stayed = idle && highWatermarks === previous;
      previous = idle ? highWatermarks : '';
      return stayed ? highWatermarks : null;
    },
    'the group to commit every record of the input and repairs topics, twice in a row',
    timeoutMs,
    500,
  );
}

async function lagNow(env: TestEnvironment): Promise<string> {
  return JSON.stringify((await groupLag(env)).lag);
}

const STREAM_CHANGES = 2000;
/** Events published ahead of the group: enough that every membership change meets batches in flight. */
const STREAM_BACKLOG = 150;

/**
 * Publishes `total` changes in small chunks, each once the group's backlog on the input topic
 * has fallen under STREAM_BACKLOG, so the stream runs for the whole choreography.
 */
function streamInBackground(env: TestEnvironment, upstream: UpstreamSimulator, total: number, chunk = 25): { published: () => number; finished: Promise<void> } {
  let published = 0;
  const finished = (async () => {
    while (published < total) {
      await waitFor(async () => (await groupLag(env)).lag[env.topic] < STREAM_BACKLOG, 'the backlog to fall under the stream limit', 120000, 50);
      const size = Math.min(chunk, total - published);
      await upstream.stream(size, size);
      published += size;
    }
  })();
  // A failed stream is reported by whoever awaits `finished`; the progress waits time out on it.
  finished.catch(() => undefined);
  return { published: () => published, finished };
}

/**
 * Three workers; while the stream runs a fourth joins and leaves (SIGTERM), one of the first
 * three is SIGKILLed and replaced. Returns once the group has settled, with what happened.
 */
/** The warnings and errors each worker logged (their last lines), for a choreography that failed. */
function workerWarnings(workers: WorkerProcess[]): string {
  return workers
    .map((worker, i) => {
      const lines = worker.output.split('\n').filter((line) => /"level":(40|50|60)/.test(line));
      return `worker ${i}: ${lines.length} warnings or errors; last:\n${lines.slice(-8).map((line) => line.slice(0, 600)).join('\n')}`;
    })
    .join('\n');
}

async function runChoreography(env: TestEnvironment, upstream: UpstreamSimulator, workers: WorkerProcess[]): Promise<string[]> {
  const steps: string[] = [];
  const started = Date.now();
  const note = async (what: string) => steps.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}; ${stream.published()} published; lag ${await lagNow(env)}`);
  const launch = async () => {
    const worker = new WorkerProcess(env.env, await freePort());
    workers.push(worker);
    await worker.start();
    return worker;
  };
  const publishedAtLeast = (wanted: number) => {
    const n = Math.min(wanted, STREAM_CHANGES);
    return waitFor(async () => stream.published() >= n, `${n} changes to be published`, 120000, 50);
  };

  await upstream.seed();
  const originals = await Promise.all([launch(), launch(), launch()]);
  await waitForAssignment(env, originals, 'three workers to share the partitions');
  const stream = streamInBackground(env, upstream, STREAM_CHANGES);
  await note('three workers hold the partitions; the stream starts');

  await publishedAtLeast(300);
  const fourth = await launch();
  await waitForAssignment(env, [...originals, fourth], 'the fourth worker to take partitions');
  await note('a fourth worker joined and took partitions');

  await publishedAtLeast(stream.published() + 200);
  await fourth.stop('SIGTERM');
  await note(`the fourth worker left (SIGTERM, exit ${JSON.stringify(fourth.exits.at(-1))})`);

  const joins = await waitForAssignment(env, originals, 'the three workers to share the partitions again');
  await publishedAtLeast(stream.published() + 200);
  const [victim, ...survivors] = originals;
  const ownersBeforeKill = ownersTableMigrated ? await waitForOwnersOf(env, joins) : [];
  await victim.stop('SIGKILL');
  await note(`SIGKILLed a worker holding partitions ${JSON.stringify(joins.get(victim)!.partitions)}`);
  const replacement = await launch();
  await note('a replacement worker serves /health/live');

  await stream.finished;
  await note(`the stream of ${STREAM_CHANGES} changes is published`);
  const finalJoins = await waitForAssignment(env, [...survivors, replacement], 'the survivors and the replacement to share the partitions');
  const highWatermarks = await waitUntilSettled(env);
  await note('the group has consumed both topics');

  const unexpectedExits = workers.filter((w) => w !== fourth && w !== victim && w.exits.length > 0);
  expect(unexpectedExits.map((w) => w.exits)).toEqual([]);

  if (ownersTableMigrated) {
    const owners = await waitForOwnersOf(env, finalJoins);
    steps.push(`owners before the SIGKILL ${JSON.stringify(ownersBeforeKill)}; after ${JSON.stringify(owners)}`);
    const victimMember = joins.get(victim)!.memberId;
    const liveMembers = [...finalJoins.values()].map((j) => j.memberId);
    expect(owners.map((o) => o.partition)).toEqual([...Array(PARTITIONS).keys()]);
    for (const owner of owners) expect(liveMembers).toContain(owner.memberId);
    const moved = ownersBeforeKill.filter((o) => o.memberId === victimMember);
    expect(moved.length).toBeGreaterThan(0);
    for (const before of moved) {
      const after = owners.find((o) => o.partition === before.partition)!;
      expect(after.epoch).toBeGreaterThan(before.epoch);
      expect(after.epoch).toBeGreaterThanOrEqual(2);
    }
  } else {
    steps.push(`no ${OWNERS_TABLE} table: owner epochs not checked`);
  }

  // Judged below; afterwards the lag must still be zero and nothing produced meanwhile.
  steps.push(`settled at ${highWatermarks}`);
  return steps;
}

describe('scale-out: the graph stays true with 3 worker processes, a rebalance both ways and a SIGKILL during the stream, judged by brute force', () => {
  let env: TestEnvironment;
  let workers: WorkerProcess[];

  beforeEach(() => {
    workers = [];
  });

  afterEach(async () => {
    for (const worker of workers) await worker.stop('SIGKILL');
    await env.admin.deleteTopics({ topics: [repairTopicName(env.topic)] }).catch(() => undefined);
    await env.tearDown();
  });

  it(
    'exact mode: the stored graph equals the brute force',
    async () => {
      env = new TestEnvironment({ ...exactSettings, ...membershipSettings });
      await env.setUp(PARTITIONS);
      await ensureRepairTopic(env);
      const upstream = new UpstreamSimulator(env, seededRandom(31), 400);
      const started = Date.now();

      const steps = await runChoreography(env, upstream, workers);
      const violations = await graphViolations(env, upstream.vectors, K, THRESHOLD);
      const { highWatermarks } = await groupLag(env);
      console.log(`scale-out exact mode in ${Math.round((Date.now() - started) / 1000)} s:\n  ${steps.join('\n  ')}\n  violations: ${violations.length}`);

      expect(upstream.counts.leave + upstream.counts.tombstone).toBeGreaterThan(20);
      expect(upstream.counts.return).toBeGreaterThan(5);
      expect(upstream.vectors.size).toBeLessThan(upstream.studentIds.length);
      expect(violations).toEqual([]);
      expect(await lagNow(env)).toBe(JSON.stringify({ [env.topic]: 0, [repairTopicName(env.topic)]: 0 }));
      expect(steps.at(-1)).toBe(`settled at ${highWatermarks}`);
    },
    CASE_TIMEOUT_MS,
  );

  it(
    `index mode at the defaults: no hard invariant broken, recall@K at or above ${INDEX_MODE_RECALL_FLOOR}`,
    async () => {
      env = new TestEnvironment(membershipSettings);
      const { maxNeighbors, threshold, candidateSearch } = loadConfig(env.env).graph;
      expect(candidateSearch).toBe('index');
      await env.setUp(PARTITIONS);
      await ensureRepairTopic(env);
      const upstream = new UpstreamSimulator(env, seededRandom(32), 400);
      const started = Date.now();

      const steps = await runChoreography(env, upstream, workers).catch((error) => {
        throw new Error(`${(error as Error).message}\n${workerWarnings(workers)}`);
      });
      const { problems, recall } = await judgeApproximateGraph(env, upstream.vectors, maxNeighbors, threshold);
      const { highWatermarks } = await groupLag(env);
      console.log(`scale-out index mode in ${Math.round((Date.now() - started) / 1000)} s:\n  ${steps.join('\n  ')}\n  problems: ${problems.length}, recall@${maxNeighbors} ${recall.toFixed(4)}`);

      expect(upstream.counts.leave + upstream.counts.tombstone).toBeGreaterThan(20);
      expect(problems).toEqual([]);
      expect(recall).toBeGreaterThanOrEqual(INDEX_MODE_RECALL_FLOOR);
      expect(await lagNow(env)).toBe(JSON.stringify({ [env.topic]: 0, [repairTopicName(env.topic)]: 0 }));
      expect(steps.at(-1)).toBe(`settled at ${highWatermarks}`);
    },
    CASE_TIMEOUT_MS,
  );

  (ownersTableMigrated ? it : it.skip)(
    ownersTableMigrated
      ? 'fencing: a worker paused until the group evicts it, whose partitions another took and wrote, has its first write refused on SIGCONT; the graph equals the brute force'
      : `fencing: SKIPPED, no migration creates ${OWNERS_TABLE} (the one-writer-per-list design is not on this branch)`,
    async () => {
      env = new TestEnvironment({ ...exactSettings, ...membershipSettings });
      await env.setUp(PARTITIONS);
      await ensureRepairTopic(env);
      const upstream = new UpstreamSimulator(env, seededRandom(33), 200);
      const started = Date.now();
      const [zombie, survivor] = [new WorkerProcess(env.env, await freePort()), new WorkerProcess(env.env, await freePort())];
      workers.push(zombie, survivor);
      await upstream.seed();
      await Promise.all([zombie.start(), survivor.start()]);
      const joins = await waitForAssignment(env, [zombie, survivor], 'two workers to share the partitions');
      await waitUntilSettled(env);
      const zombieMember = joins.get(zombie)!.memberId;
      const ownersBefore = await waitForOwnersOf(env, joins);

      // Idle, the worker waits in a long-poll fetch; the changes published while it is stopped
      // answer that fetch, so on SIGCONT it holds a batch of partitions it no longer owns.
      // Stopped for long, the fetch it waits on would time out on SIGCONT (kafkajs's request
      // timeout, 30 s) and be retried under the new generation instead: no zombie batch.
      zombie.signal('SIGSTOP');
      const stoppedAt = Date.now();
      await upstream.stream(100);
      const ownersTaken = await waitFor(
        async () => {
          const owners = await readOwners(env);
          const survivorMember = latestJoin(survivor, env.topic)?.memberId;
          const takenOver = owners.length === PARTITIONS && owners.every((o) => o.memberId === survivorMember);
          return takenOver && Object.values((await groupLag(env)).lag).every((n) => n === 0) ? owners : null;
        },
        'the survivor to own every partition and apply every change',
        90000,
        500,
      );
      const fencedBeforeResume = FENCE_PATTERN.test(zombie.output);
      const outputAtResume = zombie.output.length;
      zombie.signal('SIGCONT');
      const stoppedMs = Date.now() - stoppedAt;
      const fence = await waitFor(async () => FENCE_PATTERN.exec(zombie.output.slice(outputAtResume)), `the resumed worker to log a write refused (${FENCE_PATTERN})`, 60000, 200).catch((error) => {
        throw new Error(`${error.message}; stopped ${stoppedMs} ms; its output since SIGCONT: ${zombie.output.slice(outputAtResume).slice(-4000)}`);
      });
      // Each event a committed batch applied is logged with its batchMs: none may precede the fence.
      const appliedBeforeFence = (zombie.output.slice(outputAtResume, outputAtResume + fence.index).match(/"batchMs"/g) ?? []).length;
      await waitUntilSettled(env);
      const violations = await graphViolations(env, upstream.vectors, K, THRESHOLD);
      console.log(
        `scale-out fencing in ${Math.round((Date.now() - started) / 1000)} s: owners before ${JSON.stringify(ownersBefore)}; after the take-over ${JSON.stringify(ownersTaken)}; ` +
          `at the end ${JSON.stringify(await readOwners(env))}; stopped ${stoppedMs} ms; the resumed worker logged "${fence[0]}" after applying ${appliedBeforeFence} events; zombie exits ${JSON.stringify(zombie.exits)}; violations ${violations.length}`,
      );

      expect(fencedBeforeResume).toBe(false);
      expect(appliedBeforeFence).toBe(0);
      for (const before of ownersBefore.filter((o) => o.memberId === zombieMember)) {
        expect(ownersTaken.find((o) => o.partition === before.partition)!.epoch).toBeGreaterThan(before.epoch);
      }
      expect(violations).toEqual([]);
    },
    CASE_TIMEOUT_MS,
  );
});
