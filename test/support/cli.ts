import { spawnSync } from 'node:child_process';

/** Runs the admin CLI as an operator would, with the given environment. */
export function runCli(args: string[], env: Record<string, string>) {
  return spawnSync('npx', ['ts-node', '--transpile-only', 'src/cli/main.ts', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
}
