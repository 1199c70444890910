import { TestEnvironment } from '../support/harness';
import { waitFor } from '../support/wait-for';
import { freePort, WorkerProcess } from '../support/worker-process';

/** The lines of a process's output that are not pino JSON lines (a numeric `level`). */
function linesNotInPinoFormat(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      try {
        return typeof JSON.parse(line).level !== 'number';
      } catch {
        return true;
      }
    });
}

const messages = (output: string) => output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line).msg ?? JSON.parse(line).err?.message);

describe('the worker logs in one format, from its first line', () => {
  const env = new TestEnvironment();
  const workers: WorkerProcess[] = [];

  beforeAll(() => env.setUp(1));

  afterAll(async () => {
    for (const worker of workers) await worker.stop('SIGKILL');
    await env.tearDown();
  });

  it("writes Nest's start-up lines, the running app's and the shutdown's as pino JSON lines", async () => {
    const worker = new WorkerProcess({ ...env.env, LOG_LEVEL: 'info' }, await freePort());
    workers.push(worker);
    await worker.start();
    await worker.stop('SIGTERM');
    expect(messages(worker.output)).toEqual(expect.arrayContaining(['Starting Nest application...', 'AppModule dependencies initialized']));
    expect(linesNotInPinoFormat(worker.output)).toEqual([]);
  });

  it('shows each failed attempt to reach the database while it still retries, in the same format', async () => {
    const unreachable = new URL(env.databaseUrl);
    unreachable.port = String(await freePort());
    const worker = new WorkerProcess({ ...env.env, DB_URL: unreachable.toString(), LOG_LEVEL: 'info' }, await freePort());
    workers.push(worker);
    worker.launch();
    await waitFor(
      async () => {
        if (!worker.running) throw new Error(`the worker exited: ${worker.output.slice(-2000)}`);
        return messages(worker.output).filter((m) => /Unable to connect to the database\. Retrying \(\d+\)/.test(m ?? '')).length >= 2;
      },
      'two logged database retries while the worker runs',
      30000,
    );
    expect(worker.running).toBe(true);
    await worker.stop('SIGKILL');
    expect(linesNotInPinoFormat(worker.output)).toEqual([]);
  });
});
