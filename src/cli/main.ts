#!/usr/bin/env node
import 'reflect-metadata';
import { Command } from 'commander';
import { ConfigValidationError, loadDatabaseConfig } from '../config/app-config';
import { runMigrations } from '../database/migrate';

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

program.parseAsync(process.argv).catch((error) => {
  console.error(error instanceof ConfigValidationError ? error.message : error);
  process.exit(1);
});
