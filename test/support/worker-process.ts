import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { waitFor } from './wait-for';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The worker as its own OS process, as it runs in production: it can be SIGKILLed. */
export class WorkerProcess {
  private child: ChildProcess | null = null;
  output = '';
  readonly exits: { code: number | null; signal: NodeJS.Signals | null }[] = [];

  constructor(
    private readonly env: Record<string, string>,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process and waits until it serves /health/live. */
  async start(): Promise<void> {
    const child = this.launch();
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}: ${this.output.slice(-2000)}`);
      return (await fetch(`${this.url}/health/live`)).ok;
    }, 'the worker process to serve /health/live', 60000, 200);
  }

  /** Starts the process without waiting for anything. */
  launch(): ChildProcess {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      env: { ...process.env, ...this.env, HTTP_PORT: String(this.port), NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (chunk) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk) => (this.output += chunk.toString()));
    child.on('exit', (code, signal) => this.exits.push({ code, signal }));
    return child;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal that does not end the process (SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Sends the signal and waits for the process to end. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const ended = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await ended;
    this.child = null;
  }
}

/** Established TCP connections the process `pid` holds to `port`, as the OS lists them (ss). */
export function connectionsTo(pid: number, port: number): number {
  const lines = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' }).split('\n');
  return lines.filter((line) => line.includes(`pid=${pid},`)).length;
}
