import { Admin, Kafka, logLevel, Partitioners, Producer, RecordMetadata } from 'kafkajs';
import { repairTopicName } from '../src/kafka/co-partitioning';
import { EventMessage } from '../workload/event-stream';
import { sleep } from '../workload/stats';

export const KAFKA_BROKERS = process.env.BENCH_KAFKA_BROKERS ?? `127.0.0.1:${process.env.LOCAL_KAFKA_PORT ?? 39092}`;
const PARTITIONS = 3;
const CONSUMED_POLL_MS = 50;

/**
 * The bench's side of Kafka: its topic and the repair topic next to it (created like the tests
 * create them; a build that does not know repairs leaves it empty), a producer (acks = all) and
 * the group's committed offsets.
 */
export class BenchKafka {
  /** Connection errors seen so far: a broker that went away makes the figures of a phase void. */
  connectionErrors = 0;
  private readonly kafka = new Kafka({
    clientId: 'similarity-bench',
    brokers: KAFKA_BROKERS.split(','),
    logLevel: logLevel.ERROR,
    logCreator: () => ({ log }) => {
      if (/Connection error|ECONNREFUSED|ECONNRESET|Closed connection/.test(log.message)) this.connectionErrors++;
      else console.error(`kafkajs: ${log.message}`);
    },
  });
  readonly admin: Admin = this.kafka.admin();
  readonly repairTopic: string;
  readonly producer: Producer = this.kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });

  constructor(
    readonly topic: string,
    readonly groupId: string,
    readonly partitions = PARTITIONS,
  ) {
    this.repairTopic = repairTopicName(topic);
  }

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
    await this.admin.createTopics({ waitForLeaders: true, topics: [this.topic, this.repairTopic].map((topic) => ({ topic, numPartitions: this.partitions })) });
  }

  /** Publishes messages keyed by student id; returns where each batch landed. */
  async publish(messages: EventMessage[]): Promise<RecordMetadata[]> {
    return this.producer.send({ topic: this.topic, acks: -1, messages: messages.map((m) => ({ key: m.student_id, value: JSON.stringify(m) })) });
  }

  /** The group's committed offset per partition of `topic` (the next offset it will read; -1 before any commit). */
  async committedOffsets(topic = this.topic): Promise<Map<number, bigint>> {
    const [group] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [topic] });
    return new Map(group.partitions.map((p) => [p.partition, BigInt(p.offset)]));
  }

  async endOffsets(topic = this.topic): Promise<Map<number, bigint>> {
    return new Map((await this.admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  }

  /**
   * Waits until the group has consumed every event published so far and every repair they caused.
   * A batch produces its repairs before its input offsets are committed, so the repair topic's
   * ends read once the input is consumed are final.
   */
  async waitUntilConsumed(): Promise<void> {
    const inputEnds = await this.endOffsets();
    while (!allCommitted(await this.committedOffsets(), inputEnds)) await sleep(CONSUMED_POLL_MS);
    const repairEnds = await this.endOffsets(this.repairTopic);
    while (!allCommitted(await this.committedOffsets(this.repairTopic), repairEnds)) await sleep(CONSUMED_POLL_MS);
  }

  /** The RepairMessage entries per partition of the repair topic, read back from the start (each record holds an array of them). */
  async repairEntriesByPartition(): Promise<number[]> {
    const ends = await this.endOffsets(this.repairTopic);
    const counts = Array.from({ length: this.partitions }, () => 0);
    if ([...ends.values()].every((end) => end === 0n)) return counts;
    const groupId = `${this.groupId}-readback`;
    const consumer = this.kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic: this.repairTopic, fromBeginning: true });
    const read = new Map<number, bigint>();
    await new Promise<void>((resolve, reject) => {
      setTimeout(() => reject(new Error(`the repair topic ${this.repairTopic} could not be read back to its ends within 120 s`)), 120_000).unref();
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const entries = JSON.parse(message.value?.toString() ?? '[]');
            counts[partition] += Array.isArray(entries) ? entries.length : 1;
            read.set(partition, BigInt(message.offset) + 1n);
            if ([...ends].every(([p, end]) => (read.get(p) ?? 0n) >= end)) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    await this.admin.deleteGroups([groupId]).catch(() => undefined);
    return counts;
  }

  /** Waits until `members` workers have joined the group (so the timed phases don't include the joins). */
  async waitForStableGroup(members = 1, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { groups } = await this.admin.describeGroups([this.groupId]);
      if (groups[0]?.state === 'Stable' && groups[0].members.length >= members) return;
      await sleep(200);
    }
    throw new Error(`consumer group ${this.groupId} did not become stable within ${timeoutMs} ms`);
  }

  /** Disconnects and deletes the bench's topics and consumer group (best effort: the broker may be down). */
  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    try {
      const existing = new Set(await this.admin.listTopics());
      await this.admin.deleteTopics({ topics: [this.topic, this.repairTopic, `${this.topic}.dlq`].filter((topic) => existing.has(topic)) });
      await this.admin.deleteGroups([this.groupId]);
    } catch (error) {
      console.error(`could not delete topic or group ${this.topic}: ${(error as Error).message}`);
    }
    await this.admin.disconnect().catch(() => undefined);
  }
}

/** Whether the committed offsets have reached `ends` on every partition. */
export function allCommitted(committed: Map<number, bigint>, ends: Map<number, bigint>): boolean {
  // An empty partition (nothing produced, e.g. no repairs for it) is consumed even before any commit.
  return [...ends].every(([partition, end]) => end === 0n || (committed.get(partition) ?? -1n) >= end);
}
