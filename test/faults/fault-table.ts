import { mkdirSync, writeFileSync } from 'node:fs';

export interface FaultRow {
  fault: string;
  count: number;
  lost: number;
  wrong: number;
  stalls: number;
  note?: string;
}

/** Prints the suite's table (every row zero lost, zero wrong, zero stalls), and keeps it in .local/<file>. */
export function reportFaultTable(rows: FaultRow[], title = 'fault suite', file = 'fault-table.md'): string {
  const lines = [
    '| fault or input tried | count | events lost | wrong rows | stalls | note |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.fault} | ${r.count} | ${r.lost} | ${r.wrong} | ${r.stalls} | ${r.note ?? ''} |`),
  ];
  const table = lines.join('\n');
  console.log(`\n${title}\n${table}\n`);
  mkdirSync('.local', { recursive: true });
  writeFileSync(`.local/${file}`, `${table}\n`);
  return table;
}
