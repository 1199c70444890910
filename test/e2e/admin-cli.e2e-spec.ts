import { clusteredVectors, seededRandom } from '../../bench/synthetic-vectors';
import { runCli } from '../support/cli';
import { graphViolations } from '../support/graph-check';
import { TestEnvironment } from '../support/harness';

const K = 8;
const THRESHOLD = 0.2;

describe('admin CLI against the real database', () => {
  const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD), NEIGHBOR_RESERVE: '4' });
  const vectors = new Map<string, number[]>();
  const ids = Array.from({ length: 240 }, (_, i) => `s-${String(i).padStart(3, '0')}`);

  beforeAll(async () => {
    await env.setUp(1);
    clusteredVectors(seededRandom(9), ids.length, 384, 15, 1).forEach((v, i) => vectors.set(ids[i], v));
    await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector })));
  });

  afterAll(() => env.tearDown());

  it('rebuild computes the exact graph from scratch, and verify agrees', async () => {
    await env.db.query(`INSERT INTO student_similarity (a, b, sim, last_event) VALUES ('gone', 's-001', 0.5, gen_random_uuid())`);
    await env.db.query(`INSERT INTO student_neighbor_pools (student_id, neighbor_ids, similarities) VALUES ('gone', '{s-001}', '{0.5}')`);
    const rebuilt = runCli(['rebuild', '--chunk', '50'], env.env);
    expect(rebuilt.stderr).not.toMatch(/Error/);
    expect(rebuilt.status).toBe(0);
    expect(rebuilt.stdout).toMatch(/rebuilt 240 students .* removed 1 without an embedding/);
    expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
    expect(runCli(['verify'], env.env).status).toBe(0);
  });

  it('rebuild --resume continues after the checkpoint of an interrupted run', async () => {
    // As if a rebuild died after s-119: later lists are missing, earlier ones done.
    await env.db.query(`DELETE FROM student_similarity WHERE a > 's-119'`);
    await env.db.query(`INSERT INTO similarity_rebuild_checkpoint (last_student_id, started_at) VALUES ('s-119', now())`);
    const broken = runCli(['verify'], env.env);
    expect(broken.status).toBe(1);

    const resumed = runCli(['rebuild', '--resume', '--chunk', '50'], env.env);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toMatch(/rebuilt 120 students/);
    expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
  });

  it('report shows coverage, histograms and hubs, and compares with the previous report', async () => {
    const first = runCli(['report', '--json'], env.env);
    expect(first.status).toBe(0);
    const { report } = JSON.parse(first.stdout);
    const { rows } = await env.db.query('SELECT count(*)::int AS edges, count(DISTINCT a)::int AS students FROM student_similarity');
    expect(report.students.withEmbedding).toBe(240);
    expect(report.edges).toBe(rows[0].edges);
    expect(report.students.withNeighbors).toBe(rows[0].students);
    expect(report.coverage).toBeCloseTo(rows[0].students / 240, 10);
    expect(report.similarity.histogram.reduce((sum: number, b: { count: number }) => sum + b.count, 0)).toBe(rows[0].edges);
    expect(report.inDegree.histogram.reduce((sum: number, b: { count: number }) => sum + b.count, 0)).toBe(240);
    expect(report.inDegree.hubs[0].inDegree).toBe(report.inDegree.max);

    await env.db.query(`DELETE FROM student_similarity WHERE a = 's-000'`);
    const second = runCli(['report'], env.env);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/coverage/);
    expect(second.stdout).toMatch(/█/);
    expect(second.stdout).toMatch(new RegExp(`edges\\s+${rows[0].edges} -> ${rows[0].edges - K} \\(-${K}\\)`));
    await env.db.query('TRUNCATE similarity_graph_reports');
  });

  it('neighbors prints the stored list beside the exact one and says whether they differ', async () => {
    const same = runCli(['neighbors', 's-001'], env.env);
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/stored list equals the exact one/);
    expect(runCli(['neighbors', 's-000'], env.env).stdout).toMatch(/stored list differs from the exact one/);
    const json = JSON.parse(runCli(['neighbors', 's-002', '--json'], env.env).stdout);
    expect(json.stored.map((n: { studentId: string }) => n.studentId)).toEqual(json.exact.map((n: { studentId: string }) => n.studentId));
    expect(json.exact).toHaveLength(K);
  });

  it('names every bad variable and exits non-zero on a bad configuration', () => {
    const result = runCli(['verify'], { ...env.env, MAX_NEIGHBORS: 'many', SIMILARITY_THRESHOLD: '7' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/MAX_NEIGHBORS/);
    expect(result.stderr).toMatch(/SIMILARITY_THRESHOLD/);
  });
});
