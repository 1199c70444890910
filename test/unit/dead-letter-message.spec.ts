import { boundedKeyPartitioner } from '../../src/kafka/bounded-key-partitioner';
import { DeadLetterHeaders } from '../../src/kafka/dead-letter-headers';
import { deadLetterMessage, MAX_DEAD_LETTER_VALUE_BYTES } from '../../src/similarity/dead-letter.publisher';
import { KafkaRecord } from '../../src/kafka/kafka-record';

const rejection = { category: 'invalid-key' as const, reason: 'key too long' };
const record = (key: Buffer | null, value: Buffer | null): KafkaRecord => ({ topic: 't', partition: 2, offset: '7', key, value, headers: { trace: 'abc' }, timestamp: '0' });

describe('deadLetterMessage', () => {
  it('cuts a huge key to 1 KB and keeps its length in a header', () => {
    const message = deadLetterMessage(record(Buffer.alloc(1024 * 1024, 0x6b), Buffer.from('{}')), rejection, 'now');
    expect((message.key as Buffer).length).toBe(1024);
    expect(message.headers![DeadLetterHeaders.originalKeyBytes]).toBe(String(1024 * 1024));
  });

  it('cuts a huge value and keeps its length in a header', () => {
    const message = deadLetterMessage(record(Buffer.from('s-1'), Buffer.alloc(MAX_DEAD_LETTER_VALUE_BYTES + 10)), rejection, 'now');
    expect((message.value as Buffer).length).toBe(MAX_DEAD_LETTER_VALUE_BYTES);
    expect(message.headers![DeadLetterHeaders.originalBytes]).toBe(String(MAX_DEAD_LETTER_VALUE_BYTES + 10));
  });

  it('keeps a normal record whole, with its headers, the reason and where it came from', () => {
    const message = deadLetterMessage(record(Buffer.from('s-1'), Buffer.from('{"x":1}')), rejection, 'now');
    expect(message.key).toEqual(Buffer.from('s-1'));
    expect(message.value).toEqual(Buffer.from('{"x":1}'));
    expect(message.headers).toMatchObject({ trace: 'abc', [DeadLetterHeaders.reason]: 'key too long', [DeadLetterHeaders.sourcePartition]: '2', [DeadLetterHeaders.sourceOffset]: '7' });
    expect(message.headers![DeadLetterHeaders.originalKeyBytes]).toBeUndefined();
  });
});

describe('boundedKeyPartitioner', () => {
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  const partition = (key: Buffer | null) => boundedKeyPartitioner()({ topic: 'dlq', partitionMetadata, message: { key, value: null } });

  it('sends the same key to the same partition, within the topic', () => {
    const keys = Array.from({ length: 30 }, (_, i) => Buffer.from(`student-${i}`));
    for (const key of keys) expect(partition(key)).toBe(partition(Buffer.from(key)));
    expect(new Set(keys.map(partition))).toEqual(new Set([0, 1, 2]));
  });

  it('places a key-less letter too', () => {
    expect([0, 1, 2]).toContain(partition(null));
  });
});
