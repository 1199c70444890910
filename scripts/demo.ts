/**
 * Demo: migrate the local database, seed synthetic students, start the worker, publish embedding
 * events (first computations, then drifts), print progress and a summary with latency figures
 * and a sample of neighbours. Runs against the local services of scripts/services.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { percentile } from '../workload/stats';
import { writeEmbeddings } from '../workload/embedding-writes';
import { clusteredVectors, seededRandom } from '../workload/synthetic-vectors';
import { createApp, startApp } from '../src/bootstrap';
import { loadConfig } from '../src/config/app-config';
import { runMigrations } from '../src/database/migrate';
import { repairTopicName } from '../src/kafka/co-partitioning';
import { partitionLag } from '../src/kafka/consumer-lag.monitor';

const STUDENTS = Number(process.env.DEMO_STUDENTS ?? 3000);
const DRIFTS = Number(process.env.DEMO_DRIFTS ?? 2000);

process.env.DB_URL ??= `postgres://postgres@127.0.0.1:${process.env.LOCAL_PG_PORT ?? 54329}/similarity`;
process.env.KAFKA_BROKERS ??= `127.0.0.1:${process.env.LOCAL_KAFKA_PORT ?? 39092}`;
process.env.STUDENT_EMBEDDING_TOPIC ??= 'student_embedding_events_demo';
process.env.KAFKA_GROUP_ID ??= 'similarity_worker_demo';
// The demo's output is its own progress and summary: the worker shows only warnings and errors.
process.env.LOG_LEVEL = process.env.DEMO_LOG_LEVEL ?? 'warn';


async function main(): Promise<void> {
  const config = loadConfig(process.env);
  console.log(`migrations applied: ${(await runMigrations(config)).join(', ') || 'none pending'}`);
  const db = new Client({ connectionString: config.database.url });
  await db.connect();
  await db.query('TRUNCATE student_similarity, student_embeddings, student_neighbor_pools');

  const random = seededRandom(42);
  const ids = Array.from({ length: STUDENTS }, (_, i) => `student-${String(i).padStart(5, '0')}`);
  const vectors = clusteredVectors(random, STUDENTS, config.vectors.dimension, Math.max(2, Math.round(STUDENTS / 60)), 1.2);
  const write = (rows: { id: string; vector: number[]; version: number }[]) =>
    writeEmbeddings(db, rows.map((r) => ({ studentId: r.id, vector: r.vector, version: r.version })));
  await write(ids.map((id, i) => ({ id, vector: vectors[i], version: 1 })));
  console.log(`seeded ${STUDENTS} synthetic students (${config.vectors.dimension}-d)`);

  const kafka = new Kafka({ clientId: 'similarity-demo', brokers: config.kafka.brokers, logLevel: 1 });
  const admin = kafka.admin();
  await admin.connect();
  const existing = await admin.listTopics();
  const repairTopic = repairTopicName(config.kafka.topic);
  const stale = [config.kafka.topic, repairTopic, config.kafka.deadLetterTopic].filter((topic) => existing.includes(topic));
  if (stale.length > 0) await admin.deleteTopics({ topics: stale });
  // The repair topic must have the event topic's partition count (the worker refuses to start
  // otherwise). The dead-letter topic too: without it the worker warns at start-up, noise in a demo.
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: config.kafka.topic, numPartitions: 3 },
      { topic: repairTopic, numPartitions: 3 },
      { topic: config.kafka.deadLetterTopic, numPartitions: 1 },
    ],
  });

  const app = await createApp(config);
  await startApp(app);
  console.log(`worker started; health on http://127.0.0.1:${config.http.port}/health/ready`);

  const producer = kafka.producer();
  await producer.connect();
  const producedAt = new Map<string, number>();
  const publish = async (studentIds: string[], version: number) => {
    const messages = studentIds.map((id) => {
      const eventId = randomUUID();
      producedAt.set(eventId, Date.now());
      return { key: id, value: JSON.stringify({ student_id: id, event_id: eventId, version }) };
    });
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: config.kafka.topic, messages: messages.slice(i, i + 500) });
  };

  const started = Date.now();
  await publish(ids, 1);
  const drifted = Array.from({ length: DRIFTS }, () => ids[Math.floor(random() * STUDENTS)]);
  const uniqueDrifted = [...new Set(drifted)];
  await write(uniqueDrifted.map((id) => ({ id, vector: vectors[ids.indexOf(id)].map((x) => x + (random() - 0.5) * 0.02), version: 2 })));
  await publish(uniqueDrifted, 2);
  const total = STUDENTS + uniqueDrifted.length;
  console.log(`published ${total} events (${STUDENTS} first computations, ${uniqueDrifted.length} drifts)`);

  // Settled when the group has committed every event and every repair the events caused.
  const lagOf = async (topic: string) => {
    const [latest, [group]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: config.kafka.groupId, topics: [topic] })]);
    const committed = new Map(group.partitions.map((p) => [p.partition, p.offset]));
    return latest.reduce((sum, p) => sum + partitionLag(p.high, committed.get(p.partition) ?? '-1', p.low), 0);
  };
  for (;;) {
    const [lag, repairLag] = await Promise.all([lagOf(config.kafka.topic), lagOf(repairTopic)]);
    const done = total - lag;
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(`\rprocessed ${done}/${total} events  ${(done / seconds).toFixed(0)} events/s  lag ${lag}  repairs waiting ${repairLag}   `);
    if (lag === 0 && repairLag === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const elapsed = (Date.now() - started) / 1000;
  console.log();

  const { rows: written } = await db.query('SELECT last_event, max(updated_at) AS at FROM student_similarity GROUP BY last_event');
  const latencies = written
    .filter((r) => producedAt.has(r.last_event))
    .map((r) => new Date(r.at).getTime() - producedAt.get(r.last_event)!)
    .sort((x, y) => x - y);
  const { rows: [coverage] } = await db.query('SELECT count(DISTINCT a)::int AS students, count(*)::int AS edges FROM student_similarity');
  console.log('\n== summary');
  console.log(`events: ${total} in ${elapsed.toFixed(1)} s = ${(total / elapsed).toFixed(0)} events/s end to end`);
  console.log(`event-to-commit latency (ms, ${latencies.length} events that wrote rows; includes the initial backlog): p50 ${percentile(latencies, 50)}, p95 ${percentile(latencies, 95)}, p99 ${percentile(latencies, 99)}`);
  console.log(`graph: ${coverage.edges} edges, ${coverage.students}/${STUDENTS} students with neighbours (K=${config.graph.maxNeighbors}, threshold ${config.graph.threshold})`);
  for (const id of [ids[0], ids[Math.floor(STUDENTS / 2)], ids[STUDENTS - 1]]) {
    const { rows } = await db.query('SELECT b, sim FROM student_similarity WHERE a = $1 ORDER BY sim DESC, b LIMIT 5', [id]);
    console.log(`  ${id} -> ${rows.map((r) => `${r.b} (${Number(r.sim).toFixed(3)})`).join(', ')}`);
  }

  await producer.disconnect();
  await admin.disconnect();
  await app.close();
  await db.end();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
