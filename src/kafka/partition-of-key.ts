import { Partitioners } from 'kafkajs';

const defaultPartitioner = Partitioners.DefaultPartitioner();

/** Remembered partitions per partition count; cleared when full (kafkajs' murmur2 works on Long objects and was a tenth of a worker's CPU). */
const MEMO_LIMIT = 250_000;
const memo = new Map<number, Map<string, number>>();

/**
 * The partition a keyed record lands on under Kafka's default partitioner (murmur2 of the key,
 * as the Java client and kafkajs compute it): the partition whose owner writes that student's
 * list. Keys must be bounded (student ids are): murmur2's cost grows with the square of the key.
 */
export function partitionOfKey(key: string, partitionCount: number): number {
  let known = memo.get(partitionCount);
  if (!known) memo.set(partitionCount, (known = new Map()));
  const remembered = known.get(key);
  if (remembered !== undefined) return remembered;
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  const partition = defaultPartitioner({ topic: '', partitionMetadata, message: { key, value: null } });
  if (known.size >= MEMO_LIMIT) known.clear();
  known.set(key, partition);
  return partition;
}
