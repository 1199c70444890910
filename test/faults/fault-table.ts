import { mkdirSync, writeFileSync } from 'node:fs';

/**
 * One row of the table. Every number is measured by the row's test; `null` says the fault cannot
 * touch that column (a process that never reached the broker has no events to lose), printed
 * n/a rather than a 0 nobody measured.
 */
export interface FaultRow {
  fault: string;
  count: number;
  lost: number | null;
  wrong: number | null;
  stalls: number | null;
  note?: string;
}

const cell = (value: number | null) => (value === null ? 'n/a' : String(value));

/** Prints the suite's table, and keeps it in .local/<file>. */
export function reportFaultTable(rows: FaultRow[], title = 'fault suite', file = 'fault-table.md'): string {
  const lines = [
    '| fault or input tried | count | events lost | wrong rows | stalls | note |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.fault} | ${r.count} | ${cell(r.lost)} | ${cell(r.wrong)} | ${cell(r.stalls)} | ${r.note ?? ''} |`),
  ];
  const table = lines.join('\n');
  console.log(`\n${title}\n${table}\n`);
  mkdirSync('.local', { recursive: true });
  writeFileSync(`.local/${file}`, `${table}\n`);
  return table;
}
