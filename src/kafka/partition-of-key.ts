import { Partitioners } from 'kafkajs';

const defaultPartitioner = Partitioners.DefaultPartitioner();

/**
 * The partition a keyed record lands on under Kafka's default partitioner (murmur2 of the key,
 * as the Java client and kafkajs compute it): the partition whose owner writes that student's
 * list. Keys must be bounded (student ids are): murmur2's cost grows with the square of the key.
 */
export function partitionOfKey(key: string, partitionCount: number): number {
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return defaultPartitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}
