#!/usr/bin/env node
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { SingleBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { replayDeadLetters } from '../kafka/dead-letter-replayer';
import { NeighborLookup } from '../read-api/neighbor-lookup';
import { renderReport } from '../reporting/graph-report';
import { GraphReporter } from '../reporting/graph-reporter';
import { studentIdSchema } from '../similarity/dto/embedding-event';
import { GraphRebuilder } from '../similarity/graph-rebuilder';
import { CliModule } from './cli.module';
import { DataSource } from 'typeorm';
import { AdminConfig, configFromEnvironment, ConfigValidationError, loadAdminConfig, loadConfig } from '../config/app-config';
import { runMigrations } from '../database/migrate';
import { DEFAULT_KEPT_VIOLATIONS, DEFAULT_VERIFY_CHUNK, verifyGraph, VerifyReport } from '../verification/graph-verifier';
import { DEFAULT_MIN_RECALL, describeVerdict, judgeGraph, Judgement, judgementFor } from '../verification/verdict';

const positiveInteger = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a positive integer');
  return parsed;
};

const share = (value: string) => {
  const parsed = Number(value);
  if (value.trim() === '' || !(parsed >= 0 && parsed <= 1)) throw new InvalidArgumentError('must be a number from 0 to 1');
  return parsed;
};

/** The settings of the commands that never use Kafka, built once for this process. */
const adminConfig = (): AdminConfig => configFromEnvironment(loadAdminConfig);

/** Runs an admin command that needs the database but not Kafka, with the config it is given. */
async function withContext<T>(config: AdminConfig, work: (app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>) => Promise<T>): Promise<T> {
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(config), { logger: ['error', 'warn'] });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

const program = new Command()
  .name('similarity-worker')
  .description('Admin commands for the student similarity graph (configured by the same environment as the service)');

program
  .command('migrate')
  .description('apply pending schema migrations (extension, tables, vector index)')
  .action(async () => {
    const applied = await runMigrations(adminConfig());
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  });

program
  .command('verify')
  .description(
    'check the stored lists against brute force over the embeddings: the hard invariants always (at most K, none below the threshold, ' +
      'stored similarities exact, no rows at students without an embedding), then row-for-row equality (exact mode) or recall@K ' +
      'against a floor (index mode); exits 0 on pass, 1 on fail',
  )
  .option('--sample <n>', 'check n students spread over the table instead of all', positiveInteger)
  .option('--chunk <n>', 'students checked per pass over all embeddings (memory grows with it)', positiveInteger, DEFAULT_VERIFY_CHUNK)
  .option('--show <n>', 'how many offending students to print', positiveInteger, 10)
  .option('--min-recall <r>', 'the recall@K a graph judged by recall must reach', share, DEFAULT_MIN_RECALL)
  .addOption(new Option('--judge <how>', 'what to judge beyond the hard invariants (default: equality when CANDIDATE_SEARCH=exact, recall when index)').choices(['equality', 'recall']))
  .option('--json', `print the report and verdict as JSON (the first ${DEFAULT_KEPT_VIOLATIONS} lists of each kind in full; the counts count all)`)
  .action(async (options: { sample?: number; chunk: number; show: number; minRecall: number; judge?: Judgement; json?: boolean }) => {
    const config = adminConfig();
    const k = config.graph.maxNeighbors;
    const judge = options.judge ?? judgementFor(config.graph.candidateSearch);
    const report = await withContext(config, (app) =>
      verifyGraph(app.get(DataSource).manager, {
        k,
        threshold: config.graph.threshold,
        sample: options.sample,
        chunkSize: options.chunk,
        keepViolations: options.json ? undefined : options.show,
        onProgress: options.json ? undefined : (done, total) => process.stderr.write(`\rchecked ${done}/${total}`),
      }),
    );
    const verdict = judgeGraph(
      { recall: report.recall, brokenLists: report.broken.count, differingLists: report.differing.count, orphanRows: report.orphanRows },
      { judge, minRecall: options.minRecall },
    );
    if (options.json) console.log(JSON.stringify({ ...report, verdict }, null, 2));
    else {
      process.stderr.write('\n');
      const listed = (found: VerifyReport['broken']) => {
        for (const list of found.lists.slice(0, options.show)) console.log(`  ${list.studentId}: ${list.problems.join('; ')}`);
        if (found.count > options.show) console.log(`  … and ${found.count - options.show} more`);
      };
      console.log(`students with embeddings: ${report.students}; checked: ${report.checked}`);
      console.log(`recall@${k}: ${report.recall.toFixed(5)}; lists exactly right: ${(report.exactLists * 100).toFixed(2)}%`);
      console.log(`rows at students without an embedding: ${report.orphanRows}`);
      console.log(`lists that break a hard invariant: ${report.broken.count}`);
      listed(report.broken);
      console.log(`lists that differ from the exact ones: ${report.differing.count}${judge === 'recall' ? ' (judged by recall, not listed)' : ''}`);
      if (judge === 'equality') listed(report.differing);
    }
    console.log(describeVerdict(verdict, k));
    process.exitCode = verdict.passed ? 0 : 1;
  });

program
  .command('rebuild')
  .description('recompute every pool and list from scratch, in chunks; safe while workers run; resumable')
  .option('--chunk <n>', 'students per transaction', positiveInteger, 200)
  .option('--resume', 'continue after the last checkpoint of an interrupted rebuild')
  .action(async (options: { chunk: number; resume?: boolean }) => {
    const bar = new SingleBar({ format: 'rebuild [{bar}] {percentage}% | {value}/{total} students | {rate} students/s | ETA {eta_formatted}', stream: process.stderr }, Presets.shades_classic);
    const started = Date.now();
    let barStarted = false;
    try {
      const result = await withContext(adminConfig(), (app) =>
        app.get(GraphRebuilder).rebuild({
          chunkSize: options.chunk,
          resume: !!options.resume,
          onProgress: ({ done, total }) => {
            if (!barStarted) bar.start(total, 0, { rate: '0' });
            barStarted = true;
            bar.update(done, { rate: (done / ((Date.now() - started) / 1000)).toFixed(0) });
          },
        }),
      );
      bar.stop();
      console.log(
        `rebuilt ${result.rebuilt} students in ${((Date.now() - started) / 1000).toFixed(1)} s; removed ${result.removedOrphans} without an embedding; ` +
          `searched again ${result.searchedAgain} whose pool or list named one; rows carry last_event ${result.eventId}`,
      );
    } finally {
      bar.stop();
    }
  });

program
  .command('report')
  .description('coverage, similarity histogram, in-degree distribution (hubs), compared with the previous report')
  .option('--json', 'print JSON instead of text')
  .option('--no-save', 'do not keep this report for the next comparison')
  .action(async (options: { json?: boolean; save: boolean }) => {
    const { report, comparison } = await withContext(adminConfig(), (app) => app.get(GraphReporter).report({ save: options.save }));
    console.log(options.json ? JSON.stringify({ report, comparison }, null, 2) : renderReport(report, comparison));
  });

program
  .command('neighbors')
  .description("a student's stored list beside the exact one (a full scan)")
  .argument('<student_id>')
  .option('--json', 'print JSON')
  .action(async (rawId: string, options: { json?: boolean }) => {
    const studentId = studentIdSchema.parse(rawId);
    const { stored, exact } = await withContext(adminConfig(), async (app) => {
      const lookup = app.get(NeighborLookup);
      return { stored: await lookup.stored(studentId), exact: await lookup.exact(studentId) };
    });
    if (options.json) {
      console.log(JSON.stringify({ studentId, hasEmbedding: stored.hasEmbedding, stored: stored.neighbors, exact }, null, 2));
      return;
    }
    if (!stored.hasEmbedding) console.log(`${studentId} has no embedding`);
    console.log(`${'rank'.padEnd(5)}${'stored'.padEnd(36)}exact`);
    for (let i = 0; i < Math.max(stored.neighbors.length, exact.length); i++) {
      const s = stored.neighbors[i];
      const e = exact[i];
      const cell = (n?: { studentId: string; similarity: number }) => (n ? `${n.studentId} ${n.similarity.toFixed(4)}` : '-');
      const mark = s && e && s.studentId === e.studentId ? ' ' : '≠';
      console.log(`${String(i + 1).padEnd(4)}${mark}${cell(s).padEnd(36)}${cell(e)}`);
    }
    const same = stored.neighbors.length === exact.length && stored.neighbors.every((n, i) => n.studentId === exact[i].studentId);
    console.log(same ? 'stored list equals the exact one' : 'stored list differs from the exact one');
  });

program
  .command('replay-dlq')
  .description('put dead letters back on the main topic (each once), up to the end the dead-letter topic had at start')
  .option('--max <n>', 'replay at most n letters', positiveInteger)
  .option('--dry-run', 'list the letters without replaying them')
  .action(async (options: { max?: number; dryRun?: boolean }) => {
    const config = configFromEnvironment(loadConfig);
    const { replayed } = await replayDeadLetters(config.kafka, {
      max: options.max,
      dryRun: !!options.dryRun,
      onLetter: (l) => console.log(`${options.dryRun ? 'would replay' : 'replayed'} ${l.partition}/${l.offset} key=${l.key ?? '(none)'}: ${l.reason}`),
    });
    console.log(`${options.dryRun ? 'would replay' : 'replayed'} ${replayed} dead letters from ${config.kafka.deadLetterTopic} to ${config.kafka.topic}`);
  });

program.parseAsync(process.argv).catch((error) => {
  console.error(error instanceof ConfigValidationError ? error.message : error);
  process.exit(2);
});
