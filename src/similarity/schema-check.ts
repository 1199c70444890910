import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AdminConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EmbeddingRepository } from './embedding.repository';

/**
 * Refuses to start on a database the worker would damage: a schema that lags the code (every
 * event would fail), or an embedding column whose dimension differs from EMBEDDING_DIM (every
 * student the worker hears about would be taken out of the graph as "wrong dimension").
 */
@Injectable()
export class SchemaCheck implements OnApplicationBootstrap {
  constructor(
    private readonly dataSource: DataSource,
    private readonly embeddings: EmbeddingRepository,
    @Inject(APP_CONFIG) private readonly config: Pick<AdminConfig, 'vectors'>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (await this.dataSource.showMigrations()) {
      throw new Error('the database schema has pending migrations: run `similarity-worker migrate` (npm run migrate) first');
    }
    const configured = this.config.vectors.dimension;
    const column = await this.embeddings.columnDimension(this.dataSource.manager);
    if (column !== null && column !== configured) {
      throw new Error(
        `EMBEDDING_DIM is ${configured} but student_embeddings.vec is vector(${column}): set EMBEDDING_DIM=${column}, or migrate the column; ` +
          'refusing to start, since every student with a vector of another size would be taken out of the graph',
      );
    }
  }
}
