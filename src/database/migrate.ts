import { DataSource } from 'typeorm';
import { useMigrationSettings } from '../../migrations/migration-settings';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';

/** Applies pending migrations with the config's database and vector settings; returns the names of those it ran. */
export async function runMigrations(config: { database: AppConfig['database']; vectors: Pick<AppConfig['vectors'], 'dimension' | 'index'> }): Promise<string[]> {
  useMigrationSettings(config.vectors);
  const dataSource = await new DataSource(dataSourceOptions(config.database)).initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
