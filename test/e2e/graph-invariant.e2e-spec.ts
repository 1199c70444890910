import { seededRandom } from '../../workload/synthetic-vectors';
import { graphRecall, graphViolations } from '../support/graph-check';
import { runCli } from '../support/cli';
import { TestEnvironment } from '../support/harness';
import { UpstreamSimulator } from '../../workload/upstream-simulator';

const K = 10;
const THRESHOLD = 0.15;
const settings = { MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD), NEIGHBOR_RESERVE: '5', CANDIDATE_SEARCH: 'exact', BATCH_MAX_EVENTS: '100' };

describe('the whole graph stays exact under a random stream of moves, leaves and returns', () => {
  let env: TestEnvironment;

  afterEach(() => env.tearDown());

  it('with one worker', async () => {
    env = new TestEnvironment(settings);
    await env.setUp(3);
    const upstream = new UpstreamSimulator(env, seededRandom(2024), 300);
    await env.startWorker();
    await upstream.seed();
    await upstream.stream(2500);
    await env.waitUntilConsumed();

    expect(upstream.counts.leave + upstream.counts.tombstone).toBeGreaterThan(50);
    expect(upstream.counts.return).toBeGreaterThan(20);
    expect(upstream.counts.staleReplay + upstream.counts.duplicate).toBeGreaterThan(50);
    expect(await graphViolations(env, upstream.vectors, K, THRESHOLD)).toEqual([]);
    // The stream must leave students out of the graph, or the deletion path went untested.
    expect(upstream.vectors.size).toBeLessThan(upstream.studentIds.length);

    const verified = runCli(['verify'], env.env);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/recall@10: 1\.00000; lists exactly right: 100\.00%/);

    const { rows } = await env.db.query('DELETE FROM student_similarity WHERE a = (SELECT min(a) FROM student_similarity) AND sim = (SELECT max(sim) FROM student_similarity WHERE a = (SELECT min(a) FROM student_similarity)) RETURNING a');
    const broken = runCli(['verify'], env.env);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain(`${rows[0].a}: `);
    expect(broken.stdout).toContain('VIOLATION');
  });

  it('with two workers in one group sharing a 3-partition topic', async () => {
    env = new TestEnvironment(settings);
    await env.setUp(3);
    const upstream = new UpstreamSimulator(env, seededRandom(77), 300);
    await env.startWorker();
    await env.startWorker();
    await upstream.seed();
    await upstream.stream(2500);
    await env.waitUntilConsumed();

    expect(await graphViolations(env, upstream.vectors, K, THRESHOLD)).toEqual([]);
    const { rows } = await env.db.query('SELECT count(*)::int AS n FROM student_similarity');
    expect(rows[0].n).toBeGreaterThan(1000);
  });

  it('with the vector index and candidates from each moved student\'s own pool: recall stays at or above 0.98', async () => {
    env = new TestEnvironment({ ...settings, CANDIDATE_SEARCH: 'index', HNSW_EF_SEARCH: '100' });
    await env.setUp(3);
    const upstream = new UpstreamSimulator(env, seededRandom(5), 300);
    await env.startWorker();
    await upstream.seed();
    await upstream.stream(1500);
    await env.waitUntilConsumed();

    const stored = await env.storedGraph();
    expect([...stored.keys()].filter((id) => !upstream.vectors.has(id))).toEqual([]);
    expect(await graphRecall(env, upstream.vectors, K, THRESHOLD)).toBeGreaterThanOrEqual(0.98);
  });
});
