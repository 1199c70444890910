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

  it('names every bad variable and exits non-zero on a bad configuration', () => {
    const result = runCli(['verify'], { ...env.env, MAX_NEIGHBORS: 'many', SIMILARITY_THRESHOLD: '7' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/MAX_NEIGHBORS/);
    expect(result.stderr).toMatch(/SIMILARITY_THRESHOLD/);
  });
});
