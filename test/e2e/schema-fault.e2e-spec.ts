import { graphViolations } from '../support/graph-check';
import { readDeadLetters } from '../support/group-progress';
import { TestEnvironment } from '../support/harness';
import { seededRandom } from '../../workload/synthetic-vectors';
import { UpstreamSimulator } from '../../workload/upstream-simulator';
import { waitFor } from '../support/wait-for';

const K = 10;
const THRESHOLD = 0.15;

/** The probe's status and body. */
async function probe(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

async function blockedGauge(workerUrl: string): Promise<string[]> {
  const text = await (await fetch(`${workerUrl}/metrics`)).text();
  return text.split('\n').filter((line) => line.startsWith('similarity_graph_writes_blocked'));
}

describe('a graph table the worker cannot write (schema fault)', () => {
  const env = new TestEnvironment({
    MAX_NEIGHBORS: String(K),
    SIMILARITY_THRESHOLD: String(THRESHOLD),
    // Exact candidates, so the graph can be demanded equal to the brute force.
    CANDIDATE_SEARCH: 'exact',
    // Short backoff: the repaired table is found within a second, not five.
    RETRY_MAX_DELAY_MS: '1000',
  });

  beforeAll(() => env.setUp(3));
  afterAll(() => env.tearDown());

  it('reports the SQLSTATE on readiness and the gauge while the table is missing, dead-letters nothing, and applies every event once it is back', async () => {
    const upstream = new UpstreamSimulator(env, seededRandom(26), 200);
    const { url } = await env.startWorker();
    await upstream.seed();
    await upstream.stream(200);

    await env.db.query('ALTER TABLE student_similarity RENAME TO student_similarity_away');
    const renamedAt = Date.now();
    try {
      await upstream.stream(200);

      const notReady = await waitFor(
        async () => {
          const ready = await probe(`${url}/health/ready`);
          return ready.status === 503 && ready.body.error?.graph_writes ? ready : null;
        },
        'readiness to report the refused graph writes',
        15000,
      );
      expect(Date.now() - renamedAt).toBeLessThan(15000);
      expect(notReady.body.error.graph_writes).toEqual({
        status: 'down',
        sqlstate: '42P01',
        reason: 'relation "student_similarity" does not exist: the graph cannot be written until the schema is repaired (run migrations / check grants)',
        since: expect.any(String),
      });
      // The database answers its ping: only the worker itself can tell that it cannot write.
      expect(notReady.body.info.database.status).toBe('up');
      expect(notReady.body.info.kafka_consumer.status).toBe('up');
      // A restart would repair nothing: the pod stays alive.
      expect((await probe(`${url}/health/live`)).status).toBe(200);
      expect(await blockedGauge(url)).toEqual(['similarity_graph_writes_blocked{sqlstate="42P01"} 1']);
      expect(await readDeadLetters(env)).toEqual([]);
    } finally {
      await env.db.query('ALTER TABLE IF EXISTS student_similarity_away RENAME TO student_similarity');
    }

    await env.waitUntilConsumed();
    await waitFor(async () => (await probe(`${url}/health/ready`)).status === 200, 'readiness to return once the table is back', 15000);
    expect(await blockedGauge(url)).toEqual(['similarity_graph_writes_blocked 0']);
    expect(await readDeadLetters(env)).toEqual([]);
    expect(await graphViolations(env, upstream.vectors, K, THRESHOLD)).toEqual([]);
  });
});
