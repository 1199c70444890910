import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestEnvironment } from '../support/harness';
import { waitFor } from '../support/wait-for';

/**
 * `verify` and `report` at 100,000 students x 384 dimensions under the production image's V8 cap,
 * run as an operator runs them: the compiled CLI in its own process, with no Kafka settings. The
 * graph is cheap nonsense (each student lists 15 others by a fixed stride, at made-up similarities),
 * so verify must finish with "FAIL" and exit 1, never with a crash.
 */
const STUDENTS = 100_000;
const DIMENSION = 384;
const K = 15;
const ORPHAN_ROWS = 10;
const HEAP_CAP_MB = 160;
/** The worker's own peak-RSS target; the admin commands should fit it too. */
const RSS_LIMIT_MB = 256;

interface Measured {
  command: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  peakRssMb: number;
  seconds: number;
}

/** Peak resident set size of a live process, from the kernel's high-water mark. */
function peakRssMb(pid: number): number | null {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null; // the process has ended
  }
}

/** Runs the compiled CLI; `until` (when given) ends the run early once it holds for the output so far. */
class CliRun {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private peak = 0;
  private readonly started = Date.now();
  private readonly ended: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
  private readonly poller: NodeJS.Timeout;

  constructor(
    private readonly args: string[],
    cli: string,
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [`--max-old-space-size=${HEAP_CAP_MB}`, cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk) => (this.stderr += chunk.toString()));
    this.ended = new Promise((resolve) => this.child.once('exit', (status, signal) => resolve({ status, signal })));
    this.poller = setInterval(() => this.sample(), 50);
  }

  private sample(): void {
    const rss = this.child.pid === undefined ? null : peakRssMb(this.child.pid);
    if (rss !== null) this.peak = Math.max(this.peak, rss);
  }

  /** Waits for the process to end by itself. */
  async finish(): Promise<Measured> {
    const { status, signal } = await this.ended;
    return this.result(status, signal);
  }

  /** Reads the peak while the process still runs, then ends it. */
  async stop(): Promise<Measured> {
    this.sample();
    this.child.kill('SIGTERM');
    const { status, signal } = await this.ended;
    return this.result(status, signal);
  }

  private result(status: number | null, signal: NodeJS.Signals | null): Measured {
    clearInterval(this.poller);
    return { command: this.args.join(' '), status, signal, stdout: this.stdout, stderr: this.stderr, peakRssMb: this.peak, seconds: (Date.now() - this.started) / 1000 };
  }
}

describe(`verify and report at ${STUDENTS} students x ${DIMENSION} dimensions under --max-old-space-size=${HEAP_CAP_MB}`, () => {
  // No vector index: building HNSW over 100,000 vectors takes minutes, and neither command uses it.
  const env = new TestEnvironment({ MAX_NEIGHBORS: String(K), VECTOR_INDEX: 'none' });
  const build = join('.local', `${env.name}-cli`);
  const cli = join(build, 'src', 'cli', 'main.js');
  const measured: Measured[] = [];
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    await env.setUp(1);
    const compiled = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', build], { encoding: 'utf8' });
    if (compiled.status !== 0) throw new Error(`tsc failed:\n${compiled.stdout}${compiled.stderr}`);
    // Generated inside PostgreSQL: the correlated `WHERE i >= 0` makes the vector subquery run once per row.
    await env.db.query(
      `INSERT INTO student_embeddings (student_id, vec, version)
       SELECT 's-' || lpad(i::text, 6, '0'), (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, $2) WHERE i >= 0)::vector, 0
         FROM generate_series(0, $1 - 1) AS i`,
      [STUDENTS, DIMENSION],
    );
    await env.db.query(
      `INSERT INTO student_similarity (a, b, sim, last_event)
       SELECT 's-' || lpad(i::text, 6, '0'), 's-' || lpad(((i + j * 7919) % $1)::text, 6, '0'), 0.9 - j * 0.01, gen_random_uuid()
         FROM generate_series(0, $1 - 1) AS i, generate_series(1, $2) AS j`,
      [STUDENTS, K],
    );
    await env.db.query(
      `INSERT INTO student_similarity (a, b, sim, last_event) SELECT 'left-' || i, 's-000001', 0.5, gen_random_uuid() FROM generate_series(1, $1) AS i`,
      [ORPHAN_ROWS],
    );
    await env.db.query(
      'INSERT INTO student_neighbor_pools (student_id, members, similarities) SELECT a, array_agg(b ORDER BY sim DESC, b), array_agg(sim ORDER BY sim DESC, b) FROM student_similarity GROUP BY a',
    );
    await env.db.query('ANALYZE');
    // What an operator's shell has: the database and graph settings, no Kafka.
    const { KAFKA_BROKERS: _unused, ...inherited } = process.env as Record<string, string>;
    cliEnv = { ...inherited, DB_URL: env.databaseUrl, MAX_NEIGHBORS: String(K), LOG_LEVEL: 'warn' };
  });

  afterAll(async () => {
    const lines = [
      `| command (${STUDENTS} students x ${DIMENSION}, --max-old-space-size=${HEAP_CAP_MB}) | exit | peak RSS | time |`,
      '|---|---:|---:|---:|',
      ...measured.map((m) => `| ${m.command} | ${m.status ?? m.signal} | ${m.peakRssMb.toFixed(0)} MB | ${m.seconds.toFixed(1)} s |`),
    ];
    console.log(`\n${lines.join('\n')}\n`);
    mkdirSync('.local', { recursive: true });
    writeFileSync('.local/verify-memory.md', `${lines.join('\n')}\n`);
    rmSync(build, { recursive: true, force: true });
    await env.tearDown();
  });

  function expectNoCrash(run: Measured): void {
    expect(run.stderr).not.toMatch(/heap out of memory|FATAL ERROR|Invalid configuration/);
    expect(run.peakRssMb).toBeGreaterThan(0);
    expect(run.peakRssMb).toBeLessThan(RSS_LIMIT_MB);
  }

  it('verify --sample 200 checks 200 students and reports the wrong graph with exit 1', async () => {
    const run = await new CliRun(['verify', '--sample', '200'], cli, cliEnv).finish();
    measured.push(run);
    expectNoCrash(run);
    expect(run.stdout).toMatch(new RegExp(`students with embeddings: ${STUDENTS}; checked: 200`));
    expect(run.stdout).toMatch(new RegExp(`rows at students without an embedding: ${ORPHAN_ROWS}\\b`));
    expect(run.stdout).toMatch(/^FAIL: .*lists break a hard invariant; 10 rows at students without an embedding/m);
    expect(run.status).toBe(1);
  });

  it('report --no-save counts every student and edge', async () => {
    const run = await new CliRun(['report', '--no-save'], cli, cliEnv).finish();
    measured.push(run);
    expectNoCrash(run);
    expect(run.stdout).toMatch(new RegExp(`students with an embedding\\s+${STUDENTS}`));
    expect(run.stdout).toMatch(new RegExp(`edges\\s+${STUDENTS * K + ORPHAN_ROWS}`));
    expect(run.status).toBe(0);
  });

  it('full verify streams every vector past each chunk in bounded memory (ended after three whole passes of 100 students)', async () => {
    // A full verify at this size is O(students^2): about an hour. Three whole passes over the
    // table show the memory it settles at; the run is then ended.
    const running = new CliRun(['verify', '--chunk', '100'], cli, cliEnv);
    await waitFor(
      async () => {
        if (running.child.exitCode !== null || running.child.signalCode !== null) throw new Error(`verify ended early: ${running.stderr.slice(-2000)}`);
        const progress = [...running.stderr.matchAll(/checked (\d+)\/(\d+)/g)].at(-1);
        return progress !== undefined && Number(progress[1]) >= 300 && Number(progress[2]) === STUDENTS;
      },
      'verify to check 300 students',
      180000,
      200,
    );
    const run = await running.stop();
    measured.push({ ...run, command: 'verify --chunk 100 (full; ended after 3 passes)' });
    expectNoCrash(run);
    expect(run.signal).toBe('SIGTERM');
  });
});
