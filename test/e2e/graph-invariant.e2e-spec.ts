import { seededRandom } from '../../bench/synthetic-vectors';
import { graphViolations } from '../support/graph-check';
import { TestEnvironment } from '../support/harness';
import { UpstreamSimulator } from '../support/upstream-simulator';

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
});
