import { Partitioners } from 'kafkajs';
import { keyHash, partitionOfKey } from '../../src/kafka/partition-of-key';

describe('partitionOfKey', () => {
  it('gives the partition the Java client gives: toPositive(murmur2(key)) % n, with the murmur2 values of its own tests', () => {
    const javaMurmur2 = { '21': -973932308, foobar: -790332482, 'a-little-bit-long-string': -985981536, abc: 479470107 };
    for (const [key, hash] of Object.entries(javaMurmur2)) {
      for (const n of [1, 6, 12, 1000]) expect(partitionOfKey(key, n)).toBe((hash & 0x7fffffff) % n);
    }
  });

  it('keyHash is the non-negative murmur2 the partition is taken from, for any partition count', () => {
    const producerPartitioner = Partitioners.DefaultPartitioner();
    expect(keyHash('foobar')).toBe(-790332482 & 0x7fffffff);
    for (const n of [1, 2, 3, 6, 7, 12]) {
      const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
      for (let i = 0; i < 500; i++) {
        const key = `student-${i * 7919}`;
        expect(keyHash(key)).toBeGreaterThanOrEqual(0);
        expect(keyHash(key) % n).toBe(producerPartitioner({ topic: 't', partitionMetadata, message: { key, value: null } }));
      }
    }
  });

  it('spreads student ids over every partition', () => {
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 6000; i++) counts[partitionOfKey(`student-${i}`, 6)]++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
  });

  it('agrees with the partitioner a kafkajs producer uses by default', () => {
    const producerPartitioner = Partitioners.DefaultPartitioner();
    for (const key of ['a', 's-001', 'a-much-longer-student-identifier-0042']) {
      const partitionMetadata = [0, 1, 2, 3, 4].map((partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
      expect(partitionOfKey(key, 5)).toBe(producerPartitioner({ topic: 't', partitionMetadata, message: { key, value: null } }));
    }
  });
});
