import { parseRepairRecord } from '../../src/similarity/dto/repair-record';
import { repairsForMove } from '../../src/similarity/graph/repair-protocol';

const record = (partition: number, value: unknown) => ({ topic: 't.repairs', partition, offset: '4', key: null, value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) });
const cause = { eventId: '6f1c2d7e-0f4b-4c1e-9d0a-3b8e6a1f2c44', eventTimestamp: 1764700000000 };

describe('parseRepairRecord', () => {
  it('reads back what a move announces to a partition', () => {
    const messages = repairsForMove({ subject: 'x', subjectVersion: 2, walk: [{ studentId: 'y', similarity: 0.5, version: 3 }], seeds: ['y'], ...cause }, 2, () => 1);
    expect(parseRepairRecord(record(1, [messages[1]]))).toEqual({ ok: true, messages: [messages[1]] });
  });

  it('refuses a record that is not a list of repair messages, or carries one for another partition', () => {
    const [forZero] = repairsForMove({ subject: 'x', subjectVersion: 2, ...cause }, 2, () => 0);
    expect(parseRepairRecord(record(0, null))).toMatchObject({ ok: false, reason: 'empty value' });
    expect(parseRepairRecord(record(0, '{not json'))).toMatchObject({ ok: false, reason: expect.stringMatching(/not JSON/) });
    expect(parseRepairRecord(record(0, { ...forZero }))).toMatchObject({ ok: false });
    expect(parseRepairRecord(record(0, [{ ...forZero, kind: 'jumped' }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/kind/) });
    expect(parseRepairRecord(record(0, [{ ...forZero, eventId: undefined }]))).toMatchObject({ ok: false, reason: expect.stringMatching(/eventId/) });
    expect(parseRepairRecord(record(1, [forZero]))).toMatchObject({ ok: false, reason: 'a message for partition 0 on partition 1' });
  });
});
