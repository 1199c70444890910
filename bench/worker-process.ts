import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { sleep } from '../workload/stats';

const REPO = path.resolve(__dirname, '..');

const BUILD_ROOT = path.join(REPO, 'node_modules', '.cache', 'similarity-bench');

export interface ServiceSource {
  /** 'worktree': the files as they are; otherwise the commit built. */
  from: 'worktree' | 'commit';
  commit: string;
  /** Whether src/ or migrations/ differed from HEAD (only for 'worktree'). */
  dirty: boolean | null;
}

/**
 * Compiles the service as `npm run build` would (plain node at run time, no TypeScript compiler
 * in the worker's memory): the working tree, or a commit extracted with `git archive` (so other
 * people's edits in a shared tree don't leak in). Builds live under node_modules/.cache, where
 * both tsc and node find the repo's modules. Returns the build directory.
 */
export async function compileService(commit: string | null): Promise<ServiceBuild> {
  const head = await resolveCommit(commit ?? 'HEAD');
  const work = path.join(BUILD_ROOT, commit ? `commit-${head.slice(0, 12)}` : 'worktree');
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  let projectDir = REPO;
  if (commit) {
    projectDir = path.join(work, 'source');
    fs.mkdirSync(projectDir);
    await run('bash', ['-c', `git archive ${head} src migrations tsconfig.json tsconfig.build.json | tar -x -C "${projectDir}"`], process.env);
  }
  const buildDir = path.join(work, 'build');
  await run('npx', ['tsc', '-p', path.join(projectDir, 'tsconfig.build.json'), '--outDir', buildDir, '--sourceMap', 'false'], process.env);
  const dirty = commit ? null : (await run('git', ['status', '--porcelain', '--', 'src', 'migrations'], process.env)).trim() !== '';
  return { buildDir, source: { from: commit ? 'commit' : 'worktree', commit: head, dirty } };
}

export interface ServiceBuild {
  buildDir: string;
  source: ServiceSource;
}

/**
 * A module of the built service (e.g. 'src/config/app-config'), so the bench's settings and
 * migrations come from the code that runs, not from this working tree.
 */
export function builtModule<T>(build: ServiceBuild, modulePath: string): T {
  return require(path.join(build.buildDir, `${modulePath}.js`)) as T;
}

/** The full hash of a revision, so that every run of one bench builds the same commit. */
export async function resolveCommit(revision: string): Promise<string> {
  return (await run('git', ['rev-parse', '--verify', `${revision}^{commit}`], process.env)).trim();
}

/** The node flags of package.json's start script (everything between `node` and the entry file). */
const PRODUCTION_NODE_FLAGS: string[] = (() => {
  const start: string = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).scripts.start;
  return start.split(/\s+/).slice(1, -1);
})();

export class WorkerProcess {
  private exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Starts the worker as its own node process (so its memory is its own) and waits until it serves HTTP. */
  static async start(buildDir: string, env: NodeJS.ProcessEnv, port: number): Promise<WorkerProcess> {
    const logFile = path.join(os.tmpdir(), `similarity-bench-worker-${port}.log`);
    const log = fs.openSync(logFile, 'w');
    // The same node flags as `npm start` and the image (the heap cap), so the RSS measured is the
    // deployed one; BENCH_WORKER_NODE_FLAGS adds some (e.g. --cpu-prof --cpu-prof-dir=DIR to profile).
    const extraFlags = (process.env.BENCH_WORKER_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
    const child = spawn('node', [...PRODUCTION_NODE_FLAGS, ...extraFlags, path.join(buildDir, 'src', 'main.js')], { cwd: REPO, env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const worker = new WorkerProcess(child, port, logFile);
    await worker.waitUntilLive();
    return worker;
  }

  /** Peak resident set size (VmHWM) of the worker process, in bytes. */
  peakRssBytes(): number {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status);
    if (!kb) throw new Error(`no VmHWM in /proc/${this.pid}/status`);
    return Number(kb[1]) * 1024;
  }

  async metricsText(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return response.text();
  }

  /** SIGTERM, then waits for the graceful shutdown (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 45_000): Promise<number | null> {
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  private async waitUntilLive(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    while (Date.now() < deadline && exitCode === undefined) {
      const live = await fetch(`http://127.0.0.1:${this.port}/health/live`).then((r) => r.ok, () => false);
      if (live) return;
      await sleep(200);
    }
    throw new Error(`worker did not come up (exit ${exitCode}); log: ${this.logFile}\n${fs.readFileSync(this.logFile, 'utf8').slice(-2000)}`);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Values of the named series in a Prometheus text exposition (label sets summed). */
export function metricValues(text: string, names: string[]): Record<string, number> {
  const values: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match && match[1] in values) values[match[1]] += Number(match[3]);
  }
  return values;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${stdout}${stderr.slice(-4000)}`))));
  });
}
