import { randomUUID } from 'node:crypto';
import { TestEnvironment } from '../support/harness';
import { ExampleExtensionModule } from '../support/example-extension.module';
import { exactNeighborsOf } from '../support/oracle';
import { clusteredVectors, seededRandom } from '../../workload/synthetic-vectors';

const K = 6;
const THRESHOLD = 0.2;

describe('a module of the deployment added to the worker (docs/extending.md)', () => {
  const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD) });
  const vectors = new Map<string, number[]>();
  let url: string;

  beforeAll(async () => {
    await env.setUp(1);
    const ids = Array.from({ length: 60 }, (_, i) => `s-${String(i).padStart(2, '0')}`);
    clusteredVectors(seededRandom(5), ids.length, 384, 4, 1).forEach((v, i) => vectors.set(ids[i], v));
    await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector })));
    ({ url } = await env.startWorker({}, { imports: [ExampleExtensionModule.forRoot({ canaryStudentId: 's-01' })] }));
    await env.publish(ids.map((id) => ({ key: id, value: JSON.stringify({ student_id: id, event_id: randomUUID(), version: 0 }) })));
    await env.waitUntilConsumed();
  });

  afterAll(() => env.tearDown());

  it("serves the extension's read endpoint from the graph, with the worker's config", async () => {
    const response = await fetch(`${url}/extension/top/s-07`);
    expect(response.status).toBe(200);
    const body = await response.json();
    const [expected] = exactNeighborsOf('s-07', vectors, K, THRESHOLD);
    expect(body.top.studentId).toBe(expected.studentId);
    expect(body.top.similarity).toBeCloseTo(expected.similarity, 4);
    expect(body).toMatchObject({ studentId: 's-07', maxNeighbors: K, threshold: THRESHOLD });
    expect((await fetch(`${url}/extension/top/nobody`)).status).toBe(404);
  });

  it("counts its requests in the worker's metrics registry, served at /metrics", async () => {
    const scrape = async () => Number((await (await fetch(`${url}/metrics`)).text()).match(/^extension_top_requests_total (\d+)$/m)![1]);
    const before = await scrape();
    await fetch(`${url}/extension/top/s-08`);
    expect(await scrape()).toBe(before + 1);
  });

  it("answers its own health check through Terminus, down when the canary student's list is gone", async () => {
    const up = await fetch(`${url}/extension/health`);
    expect(up.status).toBe(200);
    expect((await up.json()).info.canary).toEqual({ status: 'up', studentId: 's-01', neighbors: K });

    await env.db.query(`DELETE FROM student_similarity WHERE a = 's-01'`);
    const down = await fetch(`${url}/extension/health`);
    expect(down.status).toBe(503);
    expect((await down.json()).error.canary).toMatchObject({ status: 'down', neighbors: 0 });
  });

  it("leaves the worker's own routes as they were", async () => {
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${url}/students/s-07/neighbors`)).status).toBe(200);
  });
});
