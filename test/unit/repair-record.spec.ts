import { encodeRepairRecords, parseRepairRecord } from '../../src/similarity/dto/repair-record';
import { RepairMessage, repairsForMove } from '../../src/similarity/graph/repair-protocol';

const encodeRepairRecord = (messages: RepairMessage[]) => encodeRepairRecords(messages, Infinity)[0];

const record = (partition: number, value: unknown) => ({ topic: 't.repairs', partition, offset: '4', key: null, value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) });
/** A record as the publisher writes it. */
const encoded = (partition: number, messages: RepairMessage[]) => record(partition, encodeRepairRecord(messages));
/** The wire form of one message, to break on purpose. */
const wire = (message: RepairMessage) => JSON.parse(encodeRepairRecord([message]))[0];
const cause = { eventId: '6f1c2d7e-0f4b-4c1e-9d0a-3b8e6a1f2c44', eventTimestamp: 1764700000000 };

describe('parseRepairRecord', () => {
  it('reads back what a move announces to a partition', () => {
    const walk = [
      { studentId: 'y', similarity: 0.5, version: 3 },
      { studentId: 'z', similarity: -0.25, version: 1 },
    ];
    const messages = repairsForMove({ subject: 'x', subjectVersion: 2, walk, seeds: ['y'], ...cause }, 2, () => 1);
    expect(messages[1].candidates).toHaveLength(2);
    expect(parseRepairRecord(encoded(1, [messages[1]]))).toEqual({ ok: true, messages: [messages[1]] });
  });

  it('refuses a record that is not a list of repair messages, or carries one for another partition', () => {
    const [forZero] = repairsForMove({ subject: 'x', subjectVersion: 2, ...cause }, 2, () => 0);
    expect(parseRepairRecord(record(0, null))).toMatchObject({ ok: false, reason: 'empty value' });
    expect(parseRepairRecord(record(0, '{not json'))).toMatchObject({ ok: false, reason: expect.stringMatching(/not JSON/) });
    expect(parseRepairRecord(record(0, { ...wire(forZero) }))).toMatchObject({ ok: false });
    expect(parseRepairRecord(record(0, [{ ...wire(forZero), kind: 'jumped' }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/kind/) });
    expect(parseRepairRecord(record(0, [{ ...wire(forZero), eventId: undefined }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/eventId/) });
    expect(parseRepairRecord(record(0, [{ ...wire(forZero), subject: 'x\u202e' }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/subject/) });
    expect(parseRepairRecord(record(0, [{ ...wire(forZero), candidates: [['y', 'z'], [0.5], [1, 2]] }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/as long/) });
    expect(parseRepairRecord(record(0, [{ ...forZero }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/candidates/) });
    expect(parseRepairRecord(record(0, [{ ...wire(forZero), candidates: [['y'], ['0.5'], [1]] }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/candidates\.1: expected an array of finite numbers/) });
    expect(parseRepairRecord(record(0, [{ ...wire(forZero), candidates: [['y'], [0.5], [-1]] }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/candidates\.2: expected an array of non-negative integers/) });
    expect(parseRepairRecord(record(0, [{ ...wire(forZero), candidates: [[''], [0.5], [1]] }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/candidates\.0: expected an array of student ids/) });
    expect(parseRepairRecord(record(0, [{ ...wire(forZero), seeds: 'y' }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/seeds: expected an array of student ids/) });
    expect(parseRepairRecord(encoded(1, [forZero]))).toMatchObject({ ok: false, reason: 'a message for partition 0 on partition 1' });
  });

  it('splits a partition\'s messages into records of at most the given size, which read back as the messages in order', () => {
    const walk = Array.from({ length: 40 }, (_, i) => ({ studentId: `candidate-${i}`, similarity: 0.9 - i / 100, version: i }));
    const messages = Array.from({ length: 50 }, (_, i) => repairsForMove({ subject: `mover-${i}`, subjectVersion: i, walk, seeds: ['seed'], ...cause }, 1, () => 0)[0]);
    const oneRecord = encodeRepairRecords(messages, Infinity);
    expect(oneRecord).toHaveLength(1);
    const maxBytes = Math.ceil(Buffer.byteLength(oneRecord[0]) / 7);
    const values = encodeRepairRecords(messages, maxBytes);
    expect(values.length).toBeGreaterThanOrEqual(7);
    for (const value of values) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(maxBytes);
    const readBack = values.flatMap((value) => {
      const parsed = parseRepairRecord(record(0, value));
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.messages;
    });
    expect(readBack).toEqual(messages);
    expect(encodeRepairRecords(messages.slice(0, 1), 10)).toHaveLength(1);
    expect(encodeRepairRecords([], 10)).toEqual([]);
  });
});
