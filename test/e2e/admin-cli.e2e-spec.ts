import { clusteredVectors, seededRandom } from '../../workload/synthetic-vectors';
import { runCli } from '../support/cli';
import { graphViolations, judgeApproximateGraph } from '../support/graph-check';
import { TestEnvironment } from '../support/harness';

const K = 8;
const THRESHOLD = 0.2;

describe('admin CLI against the real database', () => {
  const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD), NEIGHBOR_RESERVE: '4', CANDIDATE_SEARCH: 'exact' });
  const vectors = new Map<string, number[]>();
  const ids = Array.from({ length: 240 }, (_, i) => `s-${String(i).padStart(3, '0')}`);

  beforeAll(async () => {
    await env.setUp(1);
    clusteredVectors(seededRandom(9), ids.length, 384, 15, 1).forEach((v, i) => vectors.set(ids[i], v));
    await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector })));
  });

  afterAll(() => env.tearDown());

  /** Each case starts from the exact graph, whatever ran before it. */
  async function exactGraphBuilt(): Promise<void> {
    await env.db.query('TRUNCATE student_similarity, student_neighbor_pools, similarity_rebuild_checkpoint, similarity_graph_reports');
    expect(runCli(['rebuild', '--chunk', '120'], env.env).status).toBe(0);
  }

  it('rebuild computes the exact graph from scratch, and verify agrees', async () => {
    await env.db.query(`INSERT INTO student_similarity (a, b, sim, last_event) VALUES ('gone', 's-001', 0.5, gen_random_uuid())`);
    await env.db.query(`INSERT INTO student_neighbor_pools (student_id, members, similarities) VALUES ('gone', '{s-001}', '{0.5}')`);
    const rebuilt = runCli(['rebuild', '--chunk', '50'], env.env);
    expect(rebuilt.stderr).not.toMatch(/Error/);
    expect(rebuilt.status).toBe(0);
    expect(rebuilt.stdout).toMatch(/rebuilt 240 students .* removed 1 without an embedding/);
    expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
    expect(runCli(['verify'], env.env).status).toBe(0);
  });

  it('rebuild --resume continues after the checkpoint of an interrupted run', async () => {
    await exactGraphBuilt();
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
    await exactGraphBuilt();
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
    await exactGraphBuilt();
    await env.db.query(`DELETE FROM student_similarity WHERE a = 's-000'`);
    const same = runCli(['neighbors', 's-001'], env.env);
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/stored list equals the exact one/);
    expect(runCli(['neighbors', 's-000'], env.env).stdout).toMatch(/stored list differs from the exact one/);
    const json = JSON.parse(runCli(['neighbors', 's-002', '--json'], env.env).stdout);
    expect(json.stored.map((n: { studentId: string }) => n.studentId)).toEqual(json.exact.map((n: { studentId: string }) => n.studentId));
    expect(json.exact).toHaveLength(K);
  });

  describe('verify on a graph built through the vector index (CANDIDATE_SEARCH=index)', () => {
    /** The recall verify prints, as a number. */
    const printedRecall = (stdout: string) => Number(stdout.match(new RegExp(`^recall@${K}: ([\\d.]+)`, 'm'))![1]);
    const indexEnv = () => ({ ...env.env, CANDIDATE_SEARCH: 'index' });

    /** Removes the `count` least similar neighbours of each of the first `lists` students: the kind of miss index search leaves. */
    async function dropWeakestNeighbors(lists: number, count: number): Promise<void> {
      await env.db.query(
        `DELETE FROM student_similarity s USING (
           SELECT a, b FROM (SELECT a, b, row_number() OVER (PARTITION BY a ORDER BY sim, b DESC) AS weakest FROM student_similarity) ranked
            WHERE weakest <= $2 AND a IN (SELECT DISTINCT a FROM student_similarity ORDER BY a LIMIT $1)
         ) dropped WHERE (s.a, s.b) = (dropped.a, dropped.b)`,
        [lists, count],
      );
    }

    beforeEach(async () => {
      await env.db.query('TRUNCATE student_similarity, student_neighbor_pools, similarity_rebuild_checkpoint, similarity_graph_reports');
      expect(runCli(['rebuild', '--chunk', '120'], indexEnv()).status).toBe(0);
    });

    it('passes, at the default floor, a graph that misses a few exact neighbours, and names the recall it judged', async () => {
      await dropWeakestNeighbors(10, 1);
      const expectedRecall = (await judgeApproximateGraph(env, vectors, K, THRESHOLD)).recall;
      expect(expectedRecall).toBeLessThan(1);
      expect(expectedRecall).toBeGreaterThanOrEqual(0.98);

      const verified = runCli(['verify'], indexEnv());
      expect(verified.stdout).toMatch(new RegExp(`^PASS: judged recall@${K} [\\d.]+ against the floor 0.98 and the hard invariants$`, 'm'));
      expect(printedRecall(verified.stdout)).toBeCloseTo(expectedRecall, 4);
      expect(verified.status).toBe(0);

      const judgedByEquality = runCli(['verify', '--judge', 'equality'], indexEnv());
      expect(judgedByEquality.stdout).toMatch(/^FAIL: judged row-for-row equality with the exact graph .*: 10 lists differ from the exact ones$/m);
      expect(judgedByEquality.status).toBe(1);
    });

    it('fails a graph whose recall is under the floor, naming the recall and the floor', async () => {
      await dropWeakestNeighbors(120, 2);
      const expectedRecall = (await judgeApproximateGraph(env, vectors, K, THRESHOLD)).recall;
      expect(expectedRecall).toBeLessThan(0.98);

      const verified = runCli(['verify'], indexEnv());
      expect(printedRecall(verified.stdout)).toBeCloseTo(expectedRecall, 4);
      expect(verified.stdout).toMatch(/lists that break a hard invariant: 0$/m);
      expect(verified.stdout).toMatch(new RegExp(`^FAIL: judged recall@${K} .*: recall ${printedRecall(verified.stdout).toFixed(5)} is under the floor 0.98$`, 'm'));
      expect(verified.status).toBe(1);

      const lowerFloor = runCli(['verify', '--min-recall', String(Math.floor(expectedRecall * 100) / 100)], indexEnv());
      expect(lowerFloor.stdout).toMatch(/^PASS: judged recall/m);
      expect(lowerFloor.status).toBe(0);
    });

    it('fails a graph that breaks a hard invariant even when its recall is perfect: a stored similarity that is not the pair\'s', async () => {
      expect((await judgeApproximateGraph(env, vectors, K, THRESHOLD)).recall).toBe(1);
      await env.db.query(`UPDATE student_similarity SET sim = sim - 0.01 WHERE (a, b) = (SELECT a, b FROM student_similarity WHERE a = 's-010' ORDER BY sim DESC, b LIMIT 1)`);

      const verified = runCli(['verify'], indexEnv());
      expect(verified.stdout).toMatch(/^lists that break a hard invariant: 1$/m);
      expect(verified.stdout).toMatch(/^  s-010: s-\d+ stored at [\d.]+, the pair's similarity is [\d.]+$/m);
      expect(verified.stdout).toMatch(new RegExp(`^FAIL: judged recall@${K} 1.00000 against the floor 0.98 and the hard invariants: 1 lists break a hard invariant$`, 'm'));
      expect(verified.status).toBe(1);
    });
  });

  it('names every bad variable and exits non-zero on a bad configuration', () => {
    const result = runCli(['verify'], { ...env.env, MAX_NEIGHBORS: 'many', SIMILARITY_THRESHOLD: '7' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/MAX_NEIGHBORS/);
    expect(result.stderr).toMatch(/SIMILARITY_THRESHOLD/);
  });
});

describe('admin CLI on a graph of its own: no Kafka settings, and rebuild after every corruption verify reports', () => {
  const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), SIMILARITY_THRESHOLD: String(THRESHOLD), NEIGHBOR_RESERVE: '4', CANDIDATE_SEARCH: 'exact' });
  const vectors = new Map<string, number[]>();

  beforeAll(async () => {
    await env.setUp(1);
    const ids = Array.from({ length: 120 }, (_, i) => `s-${String(i).padStart(3, '0')}`);
    clusteredVectors(seededRandom(21), ids.length, 384, 8, 1).forEach((v, i) => vectors.set(ids[i], v));
    await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector })));
  });

  afterAll(() => env.tearDown());

  /** Rows in the graph tables that name a student without an embedding, as owner or as neighbour. */
  async function rowsAtMissingStudents(): Promise<Record<string, number>> {
    const missing = (column: string) => `NOT EXISTS (SELECT 1 FROM student_embeddings e WHERE e.student_id = ${column})`;
    const { rows } = await env.db.query(
      `SELECT (SELECT count(*) FROM student_similarity WHERE ${missing('a')} OR ${missing('b')})::int AS similarity,
              (SELECT count(*) FROM student_neighbor_pools p WHERE ${missing('p.student_id')})::int AS pools,
              (SELECT count(*) FROM student_neighbor_pools p, unnest(p.members) AS m(member) WHERE ${missing('p.student_id')} OR ${missing('m.member')})::int AS entries`,
    );
    return rows[0];
  }

  /** A student who leaves without an event: the embedding goes, everything else stays. */
  async function leaveSilently(studentId: string): Promise<void> {
    await env.db.query('DELETE FROM student_embeddings WHERE student_id = $1', [studentId]);
    vectors.delete(studentId);
  }

  it('runs the commands that do not use Kafka with no Kafka settings at all', () => {
    const withoutKafka = { ...env.env, KAFKA_BROKERS: '' };
    for (const args of [['migrate'], ['rebuild', '--chunk', '100'], ['verify'], ['verify', '--sample', '20'], ['report', '--no-save'], ['neighbors', 's-001']]) {
      const result = runCli(args, withoutKafka);
      expect({ args, status: result.status, stderr: result.stderr }).toEqual({ args, status: 0, stderr: expect.not.stringMatching(/KAFKA|Invalid configuration/) });
    }
  });

  it('rebuild repairs orphan rows (as a and as b), pools and pool entries of missing students, wrong, missing and extra rows, and a list without a pool', async () => {
    expect(runCli(['rebuild'], env.env).status).toBe(0);
    await leaveSilently('s-119');
    await env.db.query(`INSERT INTO student_similarity (a, b, sim, last_event) VALUES ('left-a', 's-001', 0.9, gen_random_uuid()), ('left-a', 's-002', 0.8, gen_random_uuid())`);
    await env.db.query(`INSERT INTO student_similarity (a, b, sim, last_event) VALUES ('s-003', 'left-b', 0.99, gen_random_uuid())`);
    await env.db.query(`UPDATE student_neighbor_pools SET members = members || 'left-c'::text, similarities = similarities || 0.99::float8 WHERE student_id = 's-004'`);
    await env.db.query(`INSERT INTO student_neighbor_pools (student_id, members, similarities) VALUES ('left-d', '{s-005}', '{0.5}'), ('left-e', '{}', '{}')`);
    await env.db.query(`UPDATE student_similarity SET sim = sim - 0.3 WHERE (a, b) = (SELECT a, b FROM student_similarity WHERE a = 's-010' ORDER BY sim DESC, b LIMIT 1)`);
    await env.db.query(`DELETE FROM student_similarity WHERE (a, b) = (SELECT a, b FROM student_similarity WHERE a = 's-011' ORDER BY sim DESC, b LIMIT 1)`);
    await env.db.query(
      `INSERT INTO student_similarity (a, b, sim, last_event)
       SELECT 's-012', e.student_id, 0.95, gen_random_uuid() FROM student_embeddings e
        WHERE e.student_id <> 's-012' AND NOT EXISTS (SELECT 1 FROM student_similarity s WHERE s.a = 's-012' AND s.b = e.student_id)
        ORDER BY e.student_id LIMIT 1`,
    );
    await env.db.query(`DELETE FROM student_neighbor_pools WHERE student_id = 's-013'`);
    const broken = runCli(['verify', '--show', '120'], env.env);
    expect(broken.status).toBe(1);
    expect(Number(broken.stdout.match(/rows at students without an embedding: (\d+)/)![1])).toBeGreaterThanOrEqual(4);
    for (const studentId of ['s-003', 's-010', 's-011', 's-012']) expect(broken.stdout).toMatch(new RegExp(`^  ${studentId}: `, 'm'));

    const rebuilt = runCli(['rebuild', '--chunk', '50'], env.env);
    expect(rebuilt.status).toBe(0);
    expect(await rowsAtMissingStudents()).toEqual({ similarity: 0, pools: 0, entries: 0 });
    expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
    const verified = runCli(['verify'], env.env);
    expect(verified.stdout).toMatch(/^PASS: judged row-for-row equality with the exact graph/m);
    expect(verified.status).toBe(0);
    expect(rebuilt.stdout).toMatch(/rebuilt 119 students .* removed 4 without an embedding/);
  });

  it('rebuild --resume searches again the lists and pools it did not rebuild that name a student who left', async () => {
    expect(runCli(['rebuild'], env.env).status).toBe(0);
    const [named] = (await env.db.query(`SELECT b FROM student_similarity GROUP BY b ORDER BY count(*) DESC, b LIMIT 1`)).rows;
    await leaveSilently(named.b);
    // As if a rebuild died after the last student: only the final clean-up is left to do.
    await env.db.query(`INSERT INTO similarity_rebuild_checkpoint (last_student_id, started_at) SELECT max(student_id), now() FROM student_embeddings`);
    expect(runCli(['verify'], env.env).status).toBe(1);

    const resumed = runCli(['rebuild', '--resume'], env.env);
    expect(resumed.status).toBe(0);
    expect(await rowsAtMissingStudents()).toEqual({ similarity: 0, pools: 0, entries: 0 });
    expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
    expect(runCli(['verify'], env.env).status).toBe(0);
    expect(resumed.stdout).toMatch(/rebuilt 0 students .* removed 1 without an embedding; searched again [1-9]\d* whose pool or list named one/);
  });
});
