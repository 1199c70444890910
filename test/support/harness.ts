import { randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Admin, Kafka, Message, Producer } from 'kafkajs';
import { Client, Pool } from 'pg';
import { AppModuleOptions } from '../../src/app.module';
import { createApp, startApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';
import { runMigrations } from '../../src/database/migrate';
import { repairTopicName } from '../../src/kafka/co-partitioning';
import { writeEmbeddings } from '../../workload/embedding-writes';
import { graphSettled } from './group-progress';
import { waitFor } from './wait-for';

/** A fresh database, topic and consumer group for one test file, torn down after it. */
export class TestEnvironment {
  readonly name = `sw_test_${randomBytes(4).toString('hex')}`;
  readonly topic = `${this.name}_events`;
  readonly deadLetterTopic = `${this.topic}.dlq`;
  /** The graph's repair topic, co-partitioned with the event topic. */
  readonly repairTopic = repairTopicName(this.topic);
  readonly databaseUrl: string;
  private readonly kafka = new Kafka({ clientId: `${this.name}-test`, brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: 1 });
  readonly admin: Admin = this.kafka.admin();
  readonly producer: Producer = this.kafka.producer({ allowAutoTopicCreation: true });
  readonly db: Pool;
  private readonly apps: INestApplication[] = [];

  constructor(private readonly overrides: Record<string, string> = {}) {
    const admin = new URL(process.env.TEST_PG_ADMIN_URL!);
    admin.pathname = `/${this.name}`;
    this.databaseUrl = admin.toString();
    this.db = new Pool({ connectionString: this.databaseUrl, max: 4 });
    // The fault tests stop the database: idle connections then die, which is expected here.
    this.db.on('error', () => undefined);
  }

  get env(): Record<string, string> {
    return {
      DB_URL: this.databaseUrl,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
      KAFKA_GROUP_ID: `${this.name}_group`,
      STUDENT_EMBEDDING_TOPIC: this.topic,
      HTTP_PORT: '0',
      LAG_POLL_INTERVAL_MS: '500',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...this.overrides,
    };
  }

  /**
   * Creates the database and the topics. `repairPartitions` other than `partitions` sets up a
   * deployment the worker must refuse; null leaves the repair topic for the worker to create.
   */
  async setUp(partitions = 3, repairPartitions: number | null = partitions): Promise<void> {
    const admin = new Client({ connectionString: process.env.TEST_PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${this.name}`);
    await admin.end();
    await runMigrations(loadConfig(this.env));
    await this.admin.connect();
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: this.topic, numPartitions: partitions },
        ...(repairPartitions === null ? [] : [{ topic: this.repairTopic, numPartitions: repairPartitions }]),
        { topic: this.deadLetterTopic, numPartitions: 1 },
      ],
    });
    await this.producer.connect();
  }

  /** Boots the real app (Kafka consumer + HTTP) on this environment, with `imports` added to it; returns its base URL. */
  async startWorker(extraEnv: Record<string, string> = {}, options: AppModuleOptions = {}): Promise<{ app: INestApplication; url: string }> {
    const app = await createApp(loadConfig({ ...this.env, ...extraEnv }), options);
    await startApp(app, 0);
    this.apps.push(app);
    const address = app.getHttpServer().address();
    return { app, url: `http://127.0.0.1:${address.port}` };
  }

  async stopWorker(app: INestApplication): Promise<void> {
    this.apps.splice(this.apps.indexOf(app), 1);
    await app.close();
  }

  async writeEmbeddings(rows: { studentId: string; vector: number[]; version?: number }[]): Promise<void> {
    await writeEmbeddings(this.db, rows.map((r) => ({ ...r, version: r.version ?? 0 })));
  }

  async publish(messages: Message[]): Promise<void> {
    await this.producer.send({ topic: this.topic, acks: -1, messages });
  }

  /** Waits until the worker group has committed every record on the topic: all were processed. */
  /**
   * Waits until the worker group has committed every record of the event topic and then of the
   * repairs topic: an event's offset is committed only after the repairs it caused were produced,
   * so the graph has settled once both read zero in that order.
   */
  async waitUntilConsumed(timeoutMs = 90000): Promise<void> {
    await waitFor(() => graphSettled(this), 'the consumer group to commit every event and every repair', timeoutMs);
  }

  async storedGraph(): Promise<Map<string, { studentId: string; similarity: number; lastEvent: string }[]>> {
    const { rows } = await this.db.query('SELECT a, b, sim, last_event FROM student_similarity ORDER BY a, sim DESC, b');
    const graph = new Map<string, { studentId: string; similarity: number; lastEvent: string }[]>();
    for (const row of rows) {
      if (!graph.has(row.a)) graph.set(row.a, []);
      graph.get(row.a)!.push({ studentId: row.b, similarity: Number(row.sim), lastEvent: row.last_event });
    }
    return graph;
  }

  async tearDown(): Promise<void> {
    for (const app of this.apps.splice(0)) await app.close().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    await this.admin.deleteTopics({ topics: [this.topic, this.repairTopic, this.deadLetterTopic] }).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    await this.db.end().catch(() => undefined);
    const admin = new Client({ connectionString: process.env.TEST_PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}
