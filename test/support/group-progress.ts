import { Kafka } from 'kafkajs';
import { repairTopicName } from '../../src/kafka/co-partitioning';
import type { TestEnvironment } from './harness';
import { waitFor } from './wait-for';

/** Offsets the worker group has committed on the environment's topic, summed over partitions. */
export async function committedTotal(env: TestEnvironment, topic = env.topic, groupId = env.env.KAFKA_GROUP_ID): Promise<number> {
  const [group] = await env.admin.fetchOffsets({ groupId, topics: [topic] });
  return group.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

/** Records on the topic the group has not committed yet (the topic's records start at offset 0). */
export async function committedLag(env: TestEnvironment, topic = env.topic, groupId = env.env.KAFKA_GROUP_ID): Promise<number> {
  const latest = await env.admin.fetchTopicOffsets(topic);
  return latest.reduce((sum, p) => sum + Number(p.high), 0) - (await committedTotal(env, topic, groupId));
}

/**
 * Records the group has not committed yet on every topic it reads: the input topic and, next to
 * it, the repairs topic the workers produce to while they consume. Zero on both means every event
 * and every repair it caused was applied. Also returns each topic's high watermarks, so a caller
 * can tell that nothing was produced between two readings.
 */
export async function groupLag(env: TestEnvironment, groupId = env.env.KAFKA_GROUP_ID): Promise<{ lag: Record<string, number>; highWatermarks: string }> {
  const lag: Record<string, number> = {};
  const highs: string[] = [];
  for (const topic of [env.topic, repairTopicName(env.topic)]) {
    const latest = await env.admin.fetchTopicOffsets(topic);
    highs.push(`${topic}:${latest.map((p) => `${p.partition}=${p.high}`).join(',')}`);
    lag[topic] = latest.reduce((sum, p) => sum + Number(p.high), 0) - (await committedTotal(env, topic, groupId));
  }
  return { lag, highWatermarks: highs.join(' ') };
}

export interface DeadLetter {
  key: Buffer | null;
  category: string;
  headers: Record<string, string>;
}

/** Every letter on the environment's dead-letter topic. */
export async function readDeadLetters(env: TestEnvironment): Promise<DeadLetter[]> {
  const offsets = await env.admin.fetchTopicOffsets(env.deadLetterTopic);
  const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  if (total === 0) return [];
  const consumer = new Kafka({ clientId: 'fault-dlq', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: 0 }).consumer({ groupId: `${env.name}-dlq-${Date.now()}` });
  const letters: DeadLetter[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: env.deadLetterTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));
      letters.push({ key: message.key, category: headers['x-dead-letter-category'], headers });
    },
  });
  try {
    await waitFor(async () => letters.length >= total, `${total} dead letters`, 30000);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

/** Whether the group has committed every event and then every repair they caused: the graph has settled. */
export async function graphSettled(env: TestEnvironment, groupId = env.env.KAFKA_GROUP_ID): Promise<boolean> {
  return Object.values((await groupLag(env, groupId)).lag).every((lag) => lag === 0);
}
