/**
 * Re-renders the markdown and the chart of a W1 results file (after a change to the report code),
 * without running the benchmark again: npx ts-node --transpile-only bench/render-results.ts FILE.json
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeResults } from './results-files';
import { W1Results } from './w1-results';

const file = process.argv[2];
if (!file) {
  console.error('usage: bench/render-results.ts RESULTS.json');
  process.exit(2);
}
const results = JSON.parse(fs.readFileSync(file, 'utf8')) as W1Results;
console.log(writeResults(results, path.dirname(path.resolve(file))).join('\n'));
