import { Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { loadConfig } from '../../src/config/app-config';
import { AppConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { LoggingModule } from '../../src/logging/logging.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { EmbeddingRepository } from '../../src/similarity/embedding.repository';
import { GraphStoreModule } from '../../src/similarity/graph-store.module';
import { SimilarityService } from '../../src/similarity/similarity.service';
import { TestEnvironment } from './harness';

/**
 * The graph use case alone, in this process, on the environment's database: no Kafka, no HTTP.
 * `embeddings` replaces the embedding repository (a subclass that injects a fault).
 */
export async function graphServiceModule(env: TestEnvironment, embeddings?: Type<EmbeddingRepository>): Promise<{ module: TestingModule; service: SimilarityService }> {
  const builder = Test.createTestingModule({
    imports: [AppConfigModule.forRoot(loadConfig(env.env)), DatabaseModule, GraphStoreModule, MetricsModule, LoggingModule],
    providers: [SimilarityService],
  });
  if (embeddings) builder.overrideProvider(EmbeddingRepository).useClass(embeddings);
  const module = await builder.compile();
  await module.init();
  return { module, service: module.get(SimilarityService) };
}
