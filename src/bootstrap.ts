import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { AppConfig } from './config/app-config';
import { APP_CONFIG } from './config/config.module';
import { BatchingKafkaServer } from './kafka/batching-kafka.server';
import { ConsumerStatus } from './kafka/consumer-status';
import { operatorAccess } from './http/operator-access';
import { repairTopicName } from './kafka/co-partitioning';
import { GRAPH_REPAIRS, STUDENT_EMBEDDING_EVENTS } from './kafka/event-patterns';
import { KafkaConnection } from './kafka/kafka-connection';
import { PartitionAssignment } from './kafka/partition-assignment';
import { startupLogger } from './logging/logging.module';

/**
 * The Kafka server strategy for a config: group, timeouts and batching; the client is the
 * connection's. One group consumes the event topic and its repair topic, co-partitioned.
 */
function createKafkaServer(config: AppConfig, status: ConsumerStatus, connection: KafkaConnection, assignment: PartitionAssignment): BatchingKafkaServer {
  const repairTopic = repairTopicName(config.kafka.topic);
  const heartbeatIntervalMs = Math.max(500, Math.floor(config.kafka.sessionTimeoutMs / 10));
  return new BatchingKafkaServer({
    kafka: {
      consumer: {
        groupId: config.kafka.groupId,
        sessionTimeout: config.kafka.sessionTimeoutMs,
        heartbeatInterval: heartbeatIntervalMs,
        maxBytesPerPartition: 1024 * 1024,
        allowAutoTopicCreation: false,
      },
    },
    routes: { [config.kafka.topic]: STUDENT_EMBEDDING_EVENTS, [repairTopic]: GRAPH_REPAIRS },
    maxBatchSize: config.kafka.batchMaxEvents,
    timeBudgetMs: config.kafka.batchTimeBudgetMs,
    heartbeatIntervalMs,
    topics: {
      input: config.kafka.topic,
      repairs: repairTopic,
      create: config.kafka.createTopics,
      partitions: config.kafka.topicPartitions,
      alsoCreate: [config.kafka.deadLetterTopic],
    },
    status,
    connection,
    assignment,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    partitionsConsumedConcurrently: config.kafka.partitionsConcurrently,
  });
}

/**
 * Builds the hybrid app (HTTP for health, Kafka for events) for a config, without listening yet;
 * `options.imports` adds the deployment's own modules (docs/extending.md).
 */
export async function createApp(config: AppConfig, options: AppModuleOptions = {}): Promise<INestApplication> {
  // One format from the first line: the build logs through the same pino logger the app then
  // injects, so a database that does not answer shows each retry as it happens.
  const app = await NestFactory.create(AppModule.forRoot(config, options), { logger: startupLogger(config) });
  app.useLogger(app.get(Logger));
  // process.exit (not re-raising the signal) lets pino flush the last log lines of the shutdown.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  app.connectMicroservice({ strategy: createKafkaServer(config, app.get(ConsumerStatus), app.get(KafkaConnection), app.get(PartitionAssignment)) }, { inheritAppConfig: true });
  hardenHttp(app, config);
  const openApi = new DocumentBuilder().setTitle('Similarity Worker').setDescription('Read API of the student similarity graph, health and metrics').setVersion('1').build();
  if (config.http.operatorPages) SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi), { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}

/**
 * Security headers on every response (helmet: CSP limited to this origin, nosniff, frame denial,
 * no referrer), no X-Powered-By, and the operator pages switched off or behind OPERATOR_TOKEN.
 */
function hardenHttp(app: INestApplication, config: AppConfig): void {
  const express = app.getHttpAdapter().getInstance() as { disable(setting: string): void };
  express.disable('x-powered-by');
  app.use(helmet());
  app.use(operatorAccess(config.http));
}

/**
 * Starts the HTTP server, then the consumer: probes answer while the consumer joins its group or
 * waits for a missing topic (alive, not ready).
 */
export async function startApp(app: INestApplication, port?: number): Promise<void> {
  const config = app.get<AppConfig>(APP_CONFIG);
  await app.listen(port ?? config.http.port, '0.0.0.0');
  await app.startAllMicroservices();
}
