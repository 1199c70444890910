import { eventIdFromPosition, parseEmbeddingRecord } from '../../src/similarity/dto/embedding-event';
import { KafkaRecord } from '../../src/kafka/kafka-record';

function record(value: string | Buffer | null, key: string | null = 'student-1', offset = '5'): KafkaRecord {
  return {
    topic: 'student_embedding_events',
    partition: 1,
    offset,
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value),
    headers: {},
    timestamp: '0',
  };
}

describe('parseEmbeddingRecord', () => {
  it('rejects a key longer than any student id before reading it, even with a valid value', () => {
    const hugeKey = 'k'.repeat(256 * 1024);
    const parsed = parseEmbeddingRecord(record(JSON.stringify({ student_id: hugeKey }), hugeKey));
    expect(parsed).toEqual({ ok: false, category: 'invalid-key', reason: 'key is 262144 bytes, over the 1024-byte limit of a student id' });
  });

  it('accepts the key of the longest student id in UTF-8 (256 three-byte characters)', () => {
    const id = '€'.repeat(256);
    expect(parseEmbeddingRecord(record(JSON.stringify({ student_id: id }), id)).ok).toBe(true);
  });

  it('accepts a full event and ignores unknown fields', () => {
    const parsed = parseEmbeddingRecord(record(JSON.stringify({ student_id: 'student-1', event_id: '9b2f0c0e-4a55-4c1e-9d62-1f0a8e7f3b21', version: 3, op: 'upsert', colour: 'blue' })));
    expect(parsed).toEqual({ ok: true, event: { studentId: 'student-1', eventId: '9b2f0c0e-4a55-4c1e-9d62-1f0a8e7f3b21', version: 3, op: 'upsert' } });
  });

  it('defaults op to upsert and derives a stable event id from the record position', () => {
    const first = parseEmbeddingRecord(record('{"student_id":"student-1"}'));
    const again = parseEmbeddingRecord(record('{"student_id":"student-1"}'));
    const elsewhere = parseEmbeddingRecord(record('{"student_id":"student-1"}', 'student-1', '6'));
    if (!first.ok || !again.ok || !elsewhere.ok) throw new Error('expected valid events');
    expect(first.event.op).toBe('upsert');
    expect(first.event.version).toBeNull();
    expect(first.event.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(again.event.eventId).toBe(first.event.eventId);
    expect(elsewhere.event.eventId).not.toBe(first.event.eventId);
  });

  it('reads a tombstone (empty value) as a delete of the keyed student', () => {
    const parsed = parseEmbeddingRecord(record(null, 'student-9'));
    expect(parsed).toMatchObject({ ok: true, event: { studentId: 'student-9', op: 'delete' } });
  });

  it.each([
    ['malformed JSON', '{"student_id": ', /not JSON/],
    ['a JSON array', '[1,2]', /JSON object/],
    ['a JSON string', '"student-1"', /JSON object/],
    ['a missing student_id', '{"version": 1}', /student_id/],
    ['an empty student_id', '{"student_id": ""}', /student_id: must not be empty/],
    ['a too long student_id', JSON.stringify({ student_id: 'x'.repeat(257) }), /at most 256/],
    ['a control character in the id', JSON.stringify({ student_id: 'a\u0000b' }), /control characters/],
    ['a C1 control character (NEL) in the id', JSON.stringify({ student_id: 'a\u0085b' }), /control characters/],
    ['a right-to-left override in the id', JSON.stringify({ student_id: 'abc\u202Egpj.exe' }), /bidirectional control characters/],
    ['a right-to-left isolate in the id', JSON.stringify({ student_id: 'a\u2067b' }), /bidirectional control characters/],
    ['an unknown op', '{"student_id": "student-1", "op": "merge"}', /op/],
    ['a negative version', '{"student_id": "student-1", "version": -2}', /version/],
    ['a fractional version', '{"student_id": "student-1", "version": 1.5}', /version/],
    ['an event id that is no uuid', '{"student_id": "student-1", "event_id": "abc"}', /event_id/],
  ])('rejects %s with a reason', (_, value, reason) => {
    const parsed = parseEmbeddingRecord(record(value));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('rejects a key that names another student than the value', () => {
    const parsed = parseEmbeddingRecord(record('{"student_id": "student-2"}', 'student-1'));
    expect(parsed).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
  });

  it('rejects an oversized value without parsing it', () => {
    const parsed = parseEmbeddingRecord(record(Buffer.alloc(10 * 1024 * 1024, 0x20)));
    expect(parsed).toMatchObject({ ok: false, reason: expect.stringMatching(/over the .*limit/) });
  });

  it('keeps SQL in an id as plain data', () => {
    const parsed = parseEmbeddingRecord(record(JSON.stringify({ student_id: "x'); DROP TABLE student_similarity; --" }), "x'); DROP TABLE student_similarity; --"));
    expect(parsed).toMatchObject({ ok: true, event: { studentId: "x'); DROP TABLE student_similarity; --" } });
  });

  it('gives different ids to different topics', () => {
    expect(eventIdFromPosition({ topic: 'a', partition: 0, offset: '1' })).not.toBe(eventIdFromPosition({ topic: 'b', partition: 0, offset: '1' }));
  });
});
