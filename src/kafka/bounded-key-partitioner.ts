import { createHash } from 'node:crypto';
import { ICustomPartitioner } from 'kafkajs';

/**
 * Picks a dead letter's partition from a hash of its (already cut) key. kafkajs's default
 * partitioner runs murmur2, whose cost grows with the square of the key length: a 1 MB key would
 * block the event loop for minutes. SHA-1 is linear and the key is at most MAX_KEY_BYTES anyway.
 */
export const boundedKeyPartitioner: ICustomPartitioner = () => ({ partitionMetadata, message }) => {
  if (message.partition !== undefined && message.partition !== null) return message.partition;
  const key = message.key === null || message.key === undefined ? Buffer.alloc(0) : Buffer.from(message.key);
  return createHash('sha1').update(key).digest().readUInt32BE(0) % partitionMetadata.length;
};
