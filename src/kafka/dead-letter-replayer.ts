import { IHeaders, Kafka } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { DeadLetterHeaders } from './dead-letter-headers';
import { kafkaClientOptions } from './kafka-client-options';

export interface ReplayOptions {
  /** Replay at most this many dead letters. */
  max?: number;
  /** Only read and report; publish nothing, commit nothing. */
  dryRun: boolean;
  onLetter?: (letter: { partition: number; offset: string; key: string | null; reason: string }) => void;
}

const DEAD_LETTER_HEADER_NAMES = new Set<string>(Object.values(DeadLetterHeaders));

/** The original headers of a dead letter, without the ones the dead-lettering added. */
function originalHeaders(headers: IHeaders): IHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !DEAD_LETTER_HEADER_NAMES.has(name)));
}

/**
 * Puts dead letters back on the main topic (original key, value and headers), reading the
 * dead-letter topic with a consumer group of its own so that a letter is replayed once; stops
 * when it reaches the end that the topic had when the replay started.
 */
export async function replayDeadLetters(config: AppConfig['kafka'], options: ReplayOptions): Promise<{ replayed: number }> {
  const kafka = new Kafka({ ...kafkaClientOptions(config, '-dlq-replay'), logLevel: 1 });
  const admin = kafka.admin();
  const consumer = kafka.consumer({ groupId: `${config.groupId}-dlq-replay` });
  const producer = kafka.producer();
  await Promise.all([admin.connect(), consumer.connect(), producer.connect()]);
  try {
    const ends = new Map((await admin.fetchTopicOffsets(config.deadLetterTopic)).map((p) => [p.partition, BigInt(p.high)]));
    const committed = (await admin.fetchOffsets({ groupId: `${config.groupId}-dlq-replay`, topics: [config.deadLetterTopic] }))[0].partitions;
    const remaining = new Set(
      [...ends].filter(([partition, end]) => {
        const at = committed.find((c) => c.partition === partition)?.offset ?? '-1';
        return end > (at === '-1' ? 0n : BigInt(at));
      }).map(([partition]) => partition),
    );
    let replayed = 0;
    if (remaining.size === 0) return { replayed };
    await consumer.subscribe({ topic: config.deadLetterTopic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            if (!remaining.has(partition) || (options.max !== undefined && replayed >= options.max)) return;
            const reason = message.headers?.[DeadLetterHeaders.reason]?.toString() ?? '';
            options.onLetter?.({ partition, offset: message.offset, key: message.key?.toString() ?? null, reason });
            if (!options.dryRun) {
              await producer.send({
                topic: config.topic,
                acks: -1,
                messages: [{ key: message.key, value: message.value, headers: { ...originalHeaders(message.headers ?? {}), 'x-replayed-from-dlq': `${partition}/${message.offset}` } }],
              });
              await consumer.commitOffsets([{ topic: config.deadLetterTopic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
            }
            replayed++;
            if (BigInt(message.offset) + 1n >= ends.get(partition)!) remaining.delete(partition);
            if (remaining.size === 0 || (options.max !== undefined && replayed >= options.max)) resolve();
          },
        })
        .catch(reject);
    });
    return { replayed };
  } finally {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
  }
}
