import { DataSourceOptions } from 'typeorm';
import { migrations } from '../../migrations';
import { AppConfig } from '../config/app-config';
import { StudentSimilarity } from '../similarity/entities/student-similarity.entity';

export const entities = [StudentSimilarity];

/** TypeORM options for the app, the CLI and tests; the schema comes only from migrations. */
export function dataSourceOptions(config: AppConfig['database']): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.url,
    ssl: config.ssl,
    entities,
    migrations,
    migrationsTableName: 'similarity_worker_migrations',
    synchronize: false,
    logging: false,
    extra: { max: config.poolSize, application_name: 'similarity-worker', connectionTimeoutMillis: 5000 },
  };
}
