const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/**
 * Kafka's murmur2 of a key's UTF-8 bytes, as the Java client and kafkajs compute it (kafkajs'
 * own, on Long objects, was a tenth of a worker's CPU; this is its 32-bit arithmetic, checked
 * against it in test/unit/partition-of-key.spec.ts). Keys of ASCII are read without encoding.
 */
export function murmur2(key: string): number {
  let ascii = true;
  for (let i = 0; i < key.length && ascii; i++) ascii = key.charCodeAt(i) < 0x80;
  if (ascii) return murmur2Of(key.length, (i) => key.charCodeAt(i));
  const bytes = Buffer.from(key, 'utf8');
  return murmur2Of(bytes.length, (i) => bytes[i]);
}

function murmur2Of(length: number, byteAt: (i: number) => number): number {
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = byteAt(i) | (byteAt(i + 1) << 8) | (byteAt(i + 2) << 16) | (byteAt(i + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= byteAt(whole + 2) << 16;
    // falls through
    case 2:
      h ^= byteAt(whole + 1) << 8;
    // falls through
    case 1:
      h ^= byteAt(whole);
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * toPositive(murmur2(key)): the hash Kafka's default partitioner takes modulo the partition count
 * (the Java client and kafkajs alike). A non-negative 32-bit integer, so the pool tables store it
 * and SQL finds a partition's rows as `owner_hash % count = partition`, whatever the count.
 */
export function keyHash(key: string): number {
  return murmur2(key) & 0x7fffffff;
}

/**
 * The partition a keyed record lands on under Kafka's default partitioner: the partition whose
 * owner writes that student's list.
 */
export function partitionOfKey(key: string, partitionCount: number): number {
  return keyHash(key) % partitionCount;
}
