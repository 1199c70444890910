import * as fs from 'fs';
import * as path from 'path';
import { CappedResults } from './capped-workers';
import { MachineInfo } from './cpu-by-process';
import { cappedTables, renderMarkdown } from './report-markdown';
import { TargetCheck, W1Results } from './w1-results';

const FULL_SIZE = 100_000;

/**
 * Writes w1-<students>-<YYYYMMDD-HHMM>.{json,md} and overwrites latest-quick.* or latest-full.*
 * with the same; a dense run (--topics) is w1-dense<topics>-... and latest-dense.*.
 */
export function writeResults(results: W1Results, outDir: string): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = results.startedAt.replace(/[-:]/g, '').replace('T', '-').slice(0, 13);
  const { students } = results.options;
  const topics = results.options.topics ?? null;
  const name = `w1-${topics === null ? '' : `dense${topics}-`}${students}-${stamp}`;
  const latest = topics !== null ? 'latest-dense' : students >= FULL_SIZE ? 'latest-full' : 'latest-quick';
  const written: string[] = [];
  for (const base of [name, latest]) {
    const files = {
      json: JSON.stringify(results, null, 2) + '\n',
      md: renderMarkdown(results),
    };
    for (const [ext, content] of Object.entries(files)) {
      const file = path.join(outDir, `${base}.${ext}`);
      fs.writeFileSync(file, content);
      written.push(file);
    }
  }
  return written;
}

/** The capped runs alone (--only-capped): capped-<students>-<YYYYMMDD-HHMM>.{json,md}. */
export function writeCappedResults(results: { startedAt: string; machine: MachineInfo; options: { students: number }; capped: CappedResults; targets: TargetCheck[]; notes: string[] }, outDir: string): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, `capped-${results.options.students}-${results.startedAt.replace(/[-:]/g, '').replace('T', '-').slice(0, 13)}`);
  const targets = results.targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`);
  const md = [
    `# Capped workers: ${results.options.students.toLocaleString('en')} students, ${results.capped.events.toLocaleString('en')} events per run`,
    `Run ${results.startedAt}. Machine: ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.memoryGiB} GiB; PostgreSQL ${results.machine.postgres}, pgvector ${results.machine.pgvector}; shared with other work.`,
    ['| what | target | measured | met |', '|---|---|---|---|', ...targets].join('\n'),
    cappedTables(results.capped),
    ...results.notes.map((n) => `- ${n}`),
  ].join('\n\n');
  fs.writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(`${base}.md`, md + '\n');
  return [`${base}.json`, `${base}.md`];
}
