import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { EmbeddingRepository, NearestWalk, NeighborSearch } from '../../src/similarity/embedding.repository';
import { WorkerMetrics } from '../../src/metrics/worker-metrics';
import { FencedError } from '../../src/similarity/fenced-error';
import { GraphRebuilder } from '../../src/similarity/graph-rebuilder';
import { PartitionOwnership } from '../../src/similarity/partition-ownership';
import { graphViolations, INDEX_MODE_RECALL_FLOOR, judgeApproximateGraph } from '../support/graph-check';
import { graphServiceModule } from '../support/graph-service';
import { TestEnvironment } from '../support/harness';
import { waitFor } from '../support/wait-for';
import { clusteredVectors, seededRandom } from '../../workload/synthetic-vectors';
import { atAngle, refillRaceStudents } from '../support/refill-race';

const upsert = (studentId: string, version: number) => ({ studentId, eventId: randomUUID(), version, op: 'upsert' as const });
const remove = (studentId: string, version: number) => ({ studentId, eventId: randomUUID(), version, op: 'delete' as const });

const K = 4;
const THRESHOLD = 0.1;
/** `count` students in `clusters` clusters of 8-dimensional vectors, written at version 1. */
async function arrive(env: TestEnvironment, random: () => number, prefix: string, count: number, clusters: number): Promise<Map<string, number[]>> {
  const vectors = new Map<string, number[]>();
  clusteredVectors(random, count, 8, clusters, 0.4).forEach((vector, i) => vectors.set(`${prefix}-${String(i).padStart(2, '0')}`, vector));
  await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector, version: 1 })));
  return vectors;
}

/**
 * Moves every `moveEvery`-th student next to the one `shift` places on and lets every
 * `leaveEvery`-th (from the third) leave, in `vectors` and in the database; returns their version-2 events.
 */
async function moveAndLeave(env: TestEnvironment, random: () => number, vectors: Map<string, number[]>, plan: { moveEvery: number; shift: number; leaveEvery: number }) {
  const ids = [...vectors.keys()];
  const movers = ids.filter((_, i) => i % plan.moveEvery === 0);
  for (const id of movers) vectors.set(id, vectors.get(ids[(ids.indexOf(id) + plan.shift) % ids.length])!.map((x) => x + 0.05 * (random() - 0.5)));
  await env.writeEmbeddings(movers.map((studentId) => ({ studentId, vector: vectors.get(studentId)!, version: 2 })));
  const leaving = ids.filter((_, i) => i % plan.leaveEvery === 3);
  for (const id of leaving) vectors.delete(id);
  return [...movers.map((id) => upsert(id, 2)), ...leaving.map((id) => remove(id, 2))];
}

/** A fresh database (on setUp) with small exact-mode pools of 8-dimensional vectors. */
const exactModeEnvironment = () =>
  new TestEnvironment({ CANDIDATE_SEARCH: 'exact', MAX_NEIGHBORS: String(K), NEIGHBOR_RESERVE: '2', SIMILARITY_THRESHOLD: String(THRESHOLD), EMBEDDING_DIM: '8' });

/**
 * The write path of one writer per list, on the real SQL: each partition's event batches write
 * only that partition's lists and announce every change as repair messages; each partition's
 * repair batches judge them against its own pools. The repair topic is stood in for by
 * CapturedRepairs; every produced repair is fed back to its partition's owner before the graph
 * is judged by the tests' brute force.
 */
describe('one writer per list: events on their partition, repairs judged by the pools\' owner', () => {
  const env = exactModeEnvironment();

  beforeAll(() => env.setUp(1));
  afterAll(() => env.tearDown());

  it('exact mode over three partitions: every list is the brute-force top-K after arrivals, moves and departures', async () => {
    const graph = await graphServiceModule(env, undefined, 3);
    try {
      const random = seededRandom(5);
      const vectors = await arrive(env, random, 's', 90, 5);
      await graph.applyAndSettle([...vectors.keys()].map((id) => upsert(id, 1)));
      expect(new Set([...vectors.keys()].map(graph.partitionOf)).size).toBe(3);
      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);

      await graph.applyAndSettle(await moveAndLeave(env, random, vectors, { moveEvery: 7, shift: 45, leaveEvery: 11 }));

      expect(graph.repairs.produced).toBeGreaterThan(0);
      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
    } finally {
      await graph.module.close();
    }
  });

  it('a repair message delivered again changes nothing (judged from the current vectors)', async () => {
    const graph = await graphServiceModule(env, undefined, 3);
    try {
      const student = 's-10';
      await env.writeEmbeddings([{ studentId: student, vector: [1, 0, 0, 0, 0, 0, 0, 0.5], version: 7 }]);
      await graph.service.applyEvents(graph.partitionOf(student), [upsert(student, 7)]);
      const produced = [0, 1, 2].map((p) => graph.repairs.take(p));
      for (const [p, messages] of produced.entries()) await graph.service.applyRepairs(p, messages);
      const settled = await env.storedGraph();
      for (const [p, messages] of produced.entries()) {
        const again = await graph.service.applyRepairs(p, messages);
        expect(again.listsWritten).toBe(0);
      }
      expect(await env.storedGraph()).toEqual(settled);
    } finally {
      await graph.module.close();
    }
  });

  it('a worker whose partition another member took since writes nothing: FencedError, and the new owner writes', async () => {
    const graph = await graphServiceModule(env, undefined, 3);
    const other = await graphServiceModule(env, undefined, 3);
    try {
      const student = 's-20';
      const partition = graph.partitionOf(student);
      await env.writeEmbeddings([{ studentId: student, vector: [0, 1, 0, 0, 0, 0, 0, 0.3], version: 9 }]);
      // `other` took every partition after `graph` did: `graph` is fenced.
      await expect(graph.service.applyEvents(partition, [upsert(student, 9)])).rejects.toBeInstanceOf(FencedError);
      expect(graph.repairs.produced).toBe(0);
      await other.service.applyEvents(partition, [upsert(student, 9)]);
      // One message per other partition: the partition's own share is judged in the event's transaction.
      expect(other.repairs.produced).toBe(2);
    } finally {
      await graph.module.close();
      await other.module.close();
    }
  });

  it("counts as a wait on the owner row only time another transaction held it (the serial section), not the statement's round trip", async () => {
    const graph = await graphServiceModule(env, undefined, 3);
    const waited = async () => {
      const { values } = await graph.module.get(WorkerMetrics).ownerLockWait.get();
      return values.find((v) => v.metricName === 'similarity_owner_lock_wait_seconds_sum')!.value;
    };
    const holder = await env.db.connect();
    try {
      const student = 's-40';
      const partition = graph.partitionOf(student);
      await env.writeEmbeddings([{ studentId: student, vector: [0, 0, 1, 0, 0, 0, 0, 0.2], version: 3 }]);
      await graph.service.applyEvents(partition, [upsert(student, 3)]);
      expect(await waited()).toBe(0);

      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM graph_partition_owners WHERE partition = $1 FOR UPDATE', [partition]);
      const applied = graph.service.applyEvents(partition, [upsert(student, 3)]);
      await waitFor(
        async () => (await env.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%graph_partition_owners%'`)).rows[0].n > 0,
        'the batch to wait for the owner row',
      );
      await holder.query('COMMIT');
      await applied;
      expect(await waited()).toBeGreaterThan(0);
    } finally {
      holder.release();
      await graph.module.close();
    }
  });
});

describe('index mode over three partitions: walks and seeds travel in the messages, the owners judge them', () => {
  const K = 4;
  const THRESHOLD = 0.1;
  const env = new TestEnvironment({ CANDIDATE_SEARCH: 'index', MAX_NEIGHBORS: String(K), NEIGHBOR_RESERVE: '2', REVERSE_CANDIDATES: '20', REVERSE_SEEDS: '2', SIMILARITY_THRESHOLD: String(THRESHOLD), EMBEDDING_DIM: '8' });

  beforeAll(() => env.setUp(1));
  afterAll(() => env.tearDown());

  it('after arrivals, moves and departures no list breaks an invariant and recall holds its floor', async () => {
    const graph = await graphServiceModule(env, undefined, 3);
    try {
      const random = seededRandom(9);
      const vectors = new Map<string, number[]>();
      clusteredVectors(random, 120, 8, 6, 0.4).forEach((vector, i) => vectors.set(`s-${String(i).padStart(3, '0')}`, vector));
      await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector, version: 1 })));
      await graph.applyAndSettle([...vectors.keys()].map((id) => upsert(id, 1)));

      const ids = [...vectors.keys()];
      const movers = ids.filter((_, i) => i % 5 === 0);
      for (const id of movers) vectors.set(id, vectors.get(ids[(ids.indexOf(id) + 61) % ids.length])!.map((x) => x + 0.05 * (random() - 0.5)));
      await env.writeEmbeddings(movers.map((studentId) => ({ studentId, vector: vectors.get(studentId)!, version: 2 })));
      const leaving = ids.filter((_, i) => i % 13 === 4);
      for (const id of leaving) vectors.delete(id);
      await graph.applyAndSettle([...movers.map((id) => upsert(id, 2)), ...leaving.map((id) => remove(id, 2))]);

      const { problems, recall } = await judgeApproximateGraph(env, vectors, K, THRESHOLD);
      expect(problems).toEqual([]);
      expect(recall).toBeGreaterThanOrEqual(INDEX_MODE_RECALL_FLOOR);
    } finally {
      await graph.module.close();
    }
  });
});

/** Index-mode refills of the pools in `gated` wait for `release` once `armed`: a repair transaction held open mid-refill. */
const refillGate = { gated: new Set<string>(), armed: false, reached: false, release: () => undefined as void, opened: Promise.resolve() };

@Injectable()
class RepositoryWithRefillGate extends EmbeddingRepository {
  override async walk(db: EntityManager, studentIds: string[], search: NeighborSearch): Promise<Map<string, NearestWalk>> {
    const found = await super.walk(db, studentIds, search);
    if (refillGate.armed && studentIds.some((id) => refillGate.gated.has(id))) {
      refillGate.armed = false;
      refillGate.reached = true;
      await refillGate.opened;
    }
    return found;
  }
}

/**
 * The race the model check plays on purpose (repair-protocol.model.spec.ts, "a refill that lowers
 * a bound"), on the real SQL: Y's owner refills Y's pool (its members left) in a repair
 * transaction that reads X where X was; X moves into the room the refill makes, and X's owner
 * commits and announces while that transaction is still open. X's announcement carries Y
 * unfiltered (a sender reading Y's bound would see the old, higher one and drop it), and Y's
 * owner judges it after the refill commits: X enters Y's list.
 */
describe('index mode: a refill that lowers a bound while a moved student is being announced', () => {
  const env = new TestEnvironment({ CANDIDATE_SEARCH: 'index', MAX_NEIGHBORS: '3', NEIGHBOR_RESERVE: '2', REVERSE_CANDIDATES: '10', REVERSE_SEEDS: '0', DENSE_REVERSE_SEEDS: '0', SIMILARITY_THRESHOLD: '-1', EMBEDDING_DIM: '2' });

  beforeAll(() => env.setUp(1));
  afterAll(() => env.tearDown());

  it('X reaches the list of Y that the refill made room in', async () => {
    const graph = await graphServiceModule(env, RepositoryWithRefillGate, 2);
    try {
      const { y, x, leaving, vectors } = refillRaceStudents(graph.partitionOf);
      await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector, version: 1 })));
      await graph.applyAndSettle([...vectors.keys()].map((id) => upsert(id, 1)));
      expect((await env.storedGraph()).get(y)!.map((n) => n.studentId)).toEqual(leaving);

      // The departures: their owner applies them and announces them to Y's partition.
      await env.db.query('DELETE FROM student_embeddings WHERE student_id = ANY($1::text[])', [leaving]);
      for (const id of leaving) vectors.delete(id);
      await graph.service.applyEvents(graph.partitionOf(x), leaving.map((id) => remove(id, 1)));
      await graph.service.applyRepairs(graph.partitionOf(x), graph.repairs.take(graph.partitionOf(x)));

      // Y's owner judges them; Y's pool is short and its refill is held open after its search.
      let release!: () => void;
      refillGate.opened = new Promise<void>((resolve) => (release = resolve));
      refillGate.gated = new Set([y]);
      refillGate.reached = false;
      refillGate.armed = true;
      const departuresJudged = graph.service.applyRepairs(graph.partitionOf(y), graph.repairs.take(graph.partitionOf(y)));
      await waitFor(async () => refillGate.reached, "Y's refill searched, its transaction still open");

      // X moves into the room the refill makes (inside its new bound, outside the old one);
      // X's owner commits and announces while Y's refill is uncommitted.
      vectors.set(x, atAngle(15));
      await env.writeEmbeddings([{ studentId: x, vector: vectors.get(x)!, version: 2 }]);
      await graph.service.applyEvents(graph.partitionOf(x), [upsert(x, 2)]);
      release();
      await departuresJudged;

      await graph.settleRepairs();
      expect((await env.storedGraph()).get(y)!.map((n) => n.studentId)).toEqual(['a4', 'a5', x]);
      expect(await graphViolations(env, vectors, 3, -1)).toEqual([]);
    } finally {
      await graph.module.close();
    }
  });
});

describe("a partition's own share of its events' changes", () => {
  const env = exactModeEnvironment();

  beforeAll(() => env.setUp(1));
  afterAll(() => env.tearDown());

  it("a partition judges its own share of its events' changes in their transaction: one partition settles without a repair message", async () => {
    const graph = await graphServiceModule(env, undefined, 1);
    try {
      const random = seededRandom(8);
      const vectors = await arrive(env, random, 'own', 40, 4);
      await graph.service.applyEvents(0, [...vectors.keys()].map((id) => upsert(id, 1)));
      await graph.service.applyEvents(0, await moveAndLeave(env, random, vectors, { moveEvery: 5, shift: 20, leaveEvery: 9 }));

      expect(graph.repairs.produced).toBe(0);
      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
    } finally {
      await graph.module.close();
    }
  });
});

describe("a partition's holder index, kept in its owner's memory", () => {
  const env = exactModeEnvironment();

  beforeAll(() => env.setUp(1));
  afterAll(() => env.tearDown());

  it('students arriving one at a time enter the pools of earlier ones by repair; those pools let them go when they move or leave', async () => {
    const graph = await graphServiceModule(env, undefined, 3);
    try {
      const random = seededRandom(17);
      const vectors = new Map<string, number[]>();
      for (const [i, vector] of clusteredVectors(random, 36, 8, 4, 0.4).entries()) {
        const id = `one-${String(i).padStart(2, '0')}`;
        vectors.set(id, vector);
        await env.writeEmbeddings([{ studentId: id, vector, version: 1 }]);
        await graph.applyAndSettle([upsert(id, 1)]);
      }
      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);

      await graph.applyAndSettle(await moveAndLeave(env, random, vectors, { moveEvery: 3, shift: 18, leaveEvery: 4 }));

      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
    } finally {
      await graph.module.close();
    }
  });

});

describe("a partition's holder index after a rebuild", () => {
  const env = exactModeEnvironment();

  beforeAll(() => env.setUp(1));
  afterAll(() => env.tearDown());

  it('a rebuild while the worker holds its partitions: the owners read their holder indexes again, so a student the rebuild put in pools leaves them when it moves', async () => {
    const graph = await graphServiceModule(env, undefined, 3);
    const reads = async () => (await graph.module.get(WorkerMetrics).holderIndexReads.get()).values[0].value;
    try {
      const random = seededRandom(13);
      const vectors = await arrive(env, random, 'r', 60, 4);
      await graph.applyAndSettle([...vectors.keys()].map((id) => upsert(id, 1)));
      const readsBeforeRebuild = await reads();

      // A student no event announced, next to r-00: only the rebuild puts it in its neighbours' pools.
      const newcomer = 'r-new';
      const home = vectors.get('r-00')!;
      vectors.set(newcomer, home.map((x) => x + 0.01));
      await env.writeEmbeddings([{ studentId: newcomer, vector: vectors.get(newcomer)!, version: 1 }]);
      await graph.module.get(GraphRebuilder).rebuild({ chunkSize: 25, resume: false });
      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
      const heldBy = [...(await env.storedGraph())].filter(([, list]) => list.some((n) => n.studentId === newcomer)).length;
      expect(heldBy).toBeGreaterThan(0);

      // It moves next to the student least like its old place: every pool the rebuild put it in must let it go.
      const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
      const farthest = [...vectors.keys()].filter((id) => id !== newcomer).sort((a, b) => cosine(vectors.get(a)!, home) - cosine(vectors.get(b)!, home))[0];
      vectors.set(newcomer, vectors.get(farthest)!.map((x) => x + 0.01));
      await env.writeEmbeddings([{ studentId: newcomer, vector: vectors.get(newcomer)!, version: 2 }]);
      await graph.applyAndSettle([upsert(newcomer, 2)]);

      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
      expect(await reads()).toBeGreaterThan(readsBeforeRebuild);
    } finally {
      await graph.module.close();
    }
  });
});
