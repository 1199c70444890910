// kafkajs' own murmur2, the one its default partitioner uses (not exported from the package root).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const murmur2: (key: string | Buffer) => number = require('kafkajs/src/producer/partitioners/default/murmur2');

/** Remembered hashes; cleared when full (kafkajs' murmur2 works on Long objects and was a tenth of a worker's CPU). */
const MEMO_LIMIT = 250_000;
const memo = new Map<string, number>();

/**
 * toPositive(murmur2(key)): the hash Kafka's default partitioner takes modulo the partition count
 * (the Java client and kafkajs alike). A non-negative 32-bit integer, so the pool tables store it
 * and SQL finds a partition's rows as `owner_hash % count = partition`, whatever the count.
 * Keys must be bounded (student ids are): murmur2's cost grows with the square of the key.
 */
export function keyHash(key: string): number {
  const remembered = memo.get(key);
  if (remembered !== undefined) return remembered;
  const hash = murmur2(key) & 0x7fffffff;
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, hash);
  return hash;
}

/**
 * The partition a keyed record lands on under Kafka's default partitioner: the partition whose
 * owner writes that student's list.
 */
export function partitionOfKey(key: string, partitionCount: number): number {
  return keyHash(key) % partitionCount;
}
