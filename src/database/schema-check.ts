import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Refuses to start on a database whose schema lags the code: every event would fail otherwise. */
@Injectable()
export class SchemaCheck implements OnApplicationBootstrap {
  constructor(private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    if (await this.dataSource.showMigrations()) {
      throw new Error('the database schema has pending migrations: run `similarity-worker migrate` (npm run migrate) first');
    }
  }
}
