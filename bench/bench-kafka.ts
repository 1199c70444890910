import { Admin, Kafka, logLevel, Partitioners, Producer, RecordMetadata } from 'kafkajs';
import { repairTopicName } from '../src/kafka/co-partitioning';
import { EventMessage } from '../workload/event-stream';
import { sleep } from '../workload/stats';

export const KAFKA_BROKERS = process.env.BENCH_KAFKA_BROKERS ?? `127.0.0.1:${process.env.LOCAL_KAFKA_PORT ?? 39092}`;
const PARTITIONS = 3;

/** The bench's side of Kafka: its topic, a producer (acks = all) and the group's committed offsets. */
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
  readonly producer: Producer = this.kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });

  constructor(
    readonly topic: string,
    readonly groupId: string,
  ) {}

  async connect(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
    // The worker consumes the repair topic too, and refuses one whose partition count differs.
    await this.admin.createTopics({ waitForLeaders: true, topics: [this.topic, repairTopicName(this.topic)].map((topic) => ({ topic, numPartitions: PARTITIONS })) });
  }

  /** Publishes messages keyed by student id; returns where each batch landed. */
  async publish(messages: EventMessage[]): Promise<RecordMetadata[]> {
    return this.producer.send({ topic: this.topic, acks: -1, messages: messages.map((m) => ({ key: m.student_id, value: JSON.stringify(m) })) });
  }

  /** The group's committed offset per partition (the next offset it will read; -1 before any commit). */
  async committedOffsets(): Promise<Map<number, bigint>> {
    const [group] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
    return new Map(group.partitions.map((p) => [p.partition, BigInt(p.offset)]));
  }

  async endOffsets(): Promise<Map<number, bigint>> {
    return new Map((await this.admin.fetchTopicOffsets(this.topic)).map((p) => [p.partition, BigInt(p.high)]));
  }

  /** Waits until the worker's group has joined (so the timed phases don't include the join). */
  async waitForStableGroup(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { groups } = await this.admin.describeGroups([this.groupId]);
      if (groups[0]?.state === 'Stable' && groups[0].members.length > 0) return;
      await sleep(200);
    }
    throw new Error(`consumer group ${this.groupId} did not become stable within ${timeoutMs} ms`);
  }

  /** Disconnects and deletes the bench's topics and consumer group (best effort: the broker may be down). */
  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    try {
      const existing = new Set(await this.admin.listTopics());
      await this.admin.deleteTopics({ topics: [this.topic, repairTopicName(this.topic), `${this.topic}.dlq`].filter((topic) => existing.has(topic)) });
      await this.admin.deleteGroups([this.groupId]);
    } catch (error) {
      console.error(`could not delete topic or group ${this.topic}: ${(error as Error).message}`);
    }
    await this.admin.disconnect().catch(() => undefined);
  }
}

/** Whether the committed offsets have reached `ends` on every partition. */
export function allCommitted(committed: Map<number, bigint>, ends: Map<number, bigint>): boolean {
  return [...ends].every(([partition, end]) => (committed.get(partition) ?? -1n) >= end);
}
