import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Rejection } from '../rejections';

export const MAX_STUDENT_ID_LENGTH = 256;
export const MAX_EVENT_BYTES = 64 * 1024;
/** A student id of 256 characters is at most 1 KB in UTF-8; any longer key cannot be one. */
export const MAX_KEY_BYTES = 4 * MAX_STUDENT_ID_LENGTH;

/** The rules for a student id, wherever one comes from outside. */
export const studentIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_STUDENT_ID_LENGTH, `must be at most ${MAX_STUDENT_ID_LENGTH} characters`)
  // C0 and C1 controls, and the bidirectional marks, embeddings and overrides (a U+202E in an id
  // makes it display as another one in every log and page that shows it).
  // eslint-disable-next-line no-control-regex
  .refine((id) => !/[\u0000-\u001f\u007f-\u009f]/.test(id), 'must not contain control characters')
  .refine((id) => !/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(id), 'must not contain bidirectional control characters');

/** The value of a message on the student embedding topic; unknown fields are ignored. */
const eventValueSchema = z.object({
  student_id: studentIdSchema,
  event_id: z.string().uuid().optional(),
  version: z.number().int().nonnegative().optional(),
  op: z.enum(['upsert', 'delete']).optional(),
});

export type EmbeddingOperation = 'upsert' | 'delete';

/** A record as any transport delivers it: where it sits in its log, its key and its value. */
export interface TransportRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** A validated embedding event: what to look at again, not where it came from. */
export interface EmbeddingEvent {
  studentId: string;
  eventId: string;
  version: number | null;
  op: EmbeddingOperation;
}

export type ParsedRecord = { ok: true; event: EmbeddingEvent } | ({ ok: false } & Rejection);

/** Turns one Kafka record into an event or a rejection with a reason; never throws. */
export function parseEmbeddingRecord(record: TransportRecord): ParsedRecord {
  if (record.key !== null && record.key.length > MAX_KEY_BYTES) {
    return { ok: false, category: 'invalid-key', reason: `key is ${record.key.length} bytes, over the ${MAX_KEY_BYTES}-byte limit of a student id` };
  }
  const key = record.key?.toString('utf8') ?? null;
  if (record.value === null || record.value.length === 0) {
    if (key === null) return { ok: false, category: 'invalid-key', reason: 'tombstone without a key' };
    const keyCheck = studentIdSchema.safeParse(key);
    if (!keyCheck.success) return { ok: false, category: 'invalid-key', reason: `key: ${keyCheck.error.issues[0].message}` };
    return { ok: true, event: toEvent(record, { student_id: key, op: 'delete' }) };
  }
  if (record.value.length > MAX_EVENT_BYTES) {
    return { ok: false, category: 'too-large', reason: `value is ${record.value.length} bytes, over the ${MAX_EVENT_BYTES}-byte limit` };
  }
  let json: unknown;
  try {
    json = JSON.parse(record.value.toString('utf8'));
  } catch (error) {
    return { ok: false, category: 'invalid-json', reason: `value is not JSON: ${(error as Error).message}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, category: 'invalid-json', reason: 'value must be a JSON object' };
  }
  const parsed = eventValueSchema.safeParse(json);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    return { ok: false, category: 'invalid-field', reason };
  }
  if (key !== null && key !== parsed.data.student_id) {
    return { ok: false, category: 'key-mismatch', reason: `key "${key.slice(0, 64)}" does not match student_id` };
  }
  return { ok: true, event: toEvent(record, parsed.data) };
}

function toEvent(record: TransportRecord, value: z.infer<typeof eventValueSchema>): EmbeddingEvent {
  return {
    studentId: value.student_id,
    eventId: value.event_id ?? eventIdFromPosition(record),
    version: value.version ?? null,
    op: value.op ?? 'upsert',
  };
}

/** A stable UUID for an event that brought none, so a redelivery carries the same id. */
export function eventIdFromPosition(record: Pick<TransportRecord, 'topic' | 'partition' | 'offset'>): string {
  const hex = createHash('sha1').update(`${record.topic}/${record.partition}/${record.offset}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
