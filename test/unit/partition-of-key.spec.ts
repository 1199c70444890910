import { Partitioners } from 'kafkajs';
import { keyHash, murmur2, partitionOfKey } from '../../src/kafka/partition-of-key';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2: (key: string) => number = require('kafkajs/src/producer/partitioners/default/murmur2');

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

  it('murmur2 is kafkajs\' own for keys of every length and of any characters', () => {
    let seed = 3;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['a', 'Z', '0', '-', '_', '\u00e9', '\u4e2d', '\u{1F600}', '\u007f', ' '];
    for (let length = 0; length <= 40; length++) {
      for (let trial = 0; trial < 60; trial++) {
        const key = Array.from({ length }, () => alphabet[random(trial < 30 ? 5 : alphabet.length)]).join('');
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      }
    }
  });
});
