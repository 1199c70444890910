#!/usr/bin/env node
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { SingleBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { GraphRebuilder } from '../similarity/graph-rebuilder';
import { CliModule } from './cli.module';
import { DataSource } from 'typeorm';
import { AppConfig, ConfigValidationError, loadConfig, loadDatabaseConfig } from '../config/app-config';
import { dataSourceOptions } from '../database/data-source-options';
import { runMigrations } from '../database/migrate';
import { verifyGraph } from '../verification/graph-verifier';

const positiveInteger = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
};

async function withDatabase<T>(config: AppConfig['database'], work: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const dataSource = await new DataSource(dataSourceOptions(config)).initialize();
  try {
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

const program = new Command()
  .name('similarity-worker')
  .description('Admin commands for the student similarity graph (configured by the same environment as the service)');

program
  .command('migrate')
  .description('apply pending schema migrations (extension, tables, vector index)')
  .action(async () => {
    const applied = await runMigrations(loadDatabaseConfig(process.env));
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  });

program
  .command('verify')
  .description('check every stored list against brute force over the embeddings; exits 1 on a violation')
  .option('--sample <n>', 'check n students spread over the table instead of all', positiveInteger)
  .option('--show <n>', 'how many differing students to print', positiveInteger, 10)
  .option('--json', 'print the report as JSON')
  .action(async (options: { sample?: number; show: number; json?: boolean }) => {
    const config = loadConfig(process.env);
    const report = await withDatabase(config.database, (ds) =>
      verifyGraph(ds.manager, {
        k: config.graph.maxNeighbors,
        threshold: config.graph.threshold,
        sample: options.sample,
        onProgress: options.json ? undefined : (done, total) => done % 500 === 0 && process.stderr.write(`\rchecked ${done}/${total}`),
      }),
    );
    if (options.json) console.log(JSON.stringify(report, null, 2));
    else {
      process.stderr.write('\n');
      console.log(`students with embeddings: ${report.students}; checked: ${report.checked}`);
      console.log(`recall@${config.graph.maxNeighbors}: ${report.recall.toFixed(5)}; lists exactly right: ${(report.exactLists * 100).toFixed(2)}%`);
      console.log(`rows at students without an embedding: ${report.orphanRows}`);
      for (const v of report.violations.slice(0, options.show)) console.log(`  ${v.studentId}: ${v.problems.join('; ')}`);
      if (report.violations.length > options.show) console.log(`  … and ${report.violations.length - options.show} more`);
    }
    const ok = report.violations.length === 0 && report.orphanRows === 0;
    console.log(ok ? 'OK: the graph satisfies the invariant' : 'VIOLATION: the graph differs from the exact one');
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('rebuild')
  .description('recompute every pool and list from scratch, in chunks; safe while workers run; resumable')
  .option('--chunk <n>', 'students per transaction', positiveInteger, 200)
  .option('--resume', 'continue after the last checkpoint of an interrupted rebuild')
  .action(async (options: { chunk: number; resume?: boolean }) => {
    loadConfig(process.env);
    const app = await NestFactory.createApplicationContext(CliModule, { logger: ['error', 'warn'] });
    const bar = new SingleBar({ format: 'rebuild [{bar}] {percentage}% | {value}/{total} students | {rate} students/s | ETA {eta_formatted}', stream: process.stderr }, Presets.shades_classic);
    const started = Date.now();
    let barStarted = false;
    try {
      const result = await app.get(GraphRebuilder).rebuild({
        chunkSize: options.chunk,
        resume: !!options.resume,
        onProgress: ({ done, total }) => {
          if (!barStarted) {
            bar.start(total, 0, { rate: '0' });
            barStarted = true;
          }
          bar.update(done, { rate: (done / ((Date.now() - started) / 1000)).toFixed(0) });
        },
      });
      bar.stop();
      console.log(`rebuilt ${result.rebuilt} students in ${((Date.now() - started) / 1000).toFixed(1)} s; removed ${result.removedOrphans} without an embedding; rows carry last_event ${result.eventId}`);
    } finally {
      bar.stop();
      await app.close();
    }
  });

program.parseAsync(process.argv).catch((error) => {
  console.error(error instanceof ConfigValidationError ? error.message : error);
  process.exit(2);
});
