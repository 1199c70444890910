import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { ConfigValidationError, loadConfig } from './config/app-config';
import { createApp, startApp } from './bootstrap';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  // Fail before anything connects, with one message naming every bad variable.
  loadConfig(process.env);
  const app = await createApp();
  await startApp(app);
}

main().catch((error) => {
  console.error(error instanceof ConfigValidationError ? error.message : error);
  process.exit(1);
});
