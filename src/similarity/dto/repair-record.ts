import { z } from 'zod';
import { RepairMessage } from '../graph/repair-protocol';
import { MAX_STUDENT_ID_LENGTH, studentIdSchema, TransportRecord } from './embedding-event';

/*
 * Checked as whole arrays, not element by element: a record carries hundreds of candidates, and a
 * zod schema per element was a twentieth of a worker's CPU. Students the sender read from its own
 * database (walk candidates, seeds) are checked for shape only: every id in the graph passed
 * studentIdSchema when its event arrived.
 */
const arrayOf = <T>(what: string, isElement: (value: unknown) => boolean) =>
  z.custom<T[]>((value) => Array.isArray(value) && value.every(isElement), { message: `expected an array of ${what}` });
const isStoredId = (value: unknown) => typeof value === 'string' && value.length >= 1 && value.length <= MAX_STUDENT_ID_LENGTH;
const storedIdsSchema = arrayOf<string>(`student ids of 1 to ${MAX_STUDENT_ID_LENGTH} characters`, isStoredId);

/** The walk as three parallel arrays (ids, similarities, versions): a fifth of the bytes of an object per candidate. */
const wireCandidatesSchema = z
  .tuple([
    storedIdsSchema,
    arrayOf<number>('finite numbers', (value) => typeof value === 'number' && Number.isFinite(value)),
    arrayOf<number>('non-negative integers', (value) => Number.isInteger(value) && (value as number) >= 0),
  ])
  .refine(([ids, similarities, versions]) => ids.length === similarities.length && ids.length === versions.length, 'ids, similarities and versions must be as long');

const wireMessageSchema = z.object({
  partition: z.number().int().nonnegative(),
  subject: studentIdSchema,
  subjectVersion: z.number().int().nonnegative(),
  kind: z.enum(['moved', 'left']),
  candidates: wireCandidatesSchema,
  seeds: storedIdsSchema,
  eventId: z.string().uuid(),
  eventTimestamp: z.number().finite(),
});

type WireMessage = z.infer<typeof wireMessageSchema>;

/**
 * The values of the records of the repair topic for one partition's messages: JSON lists, each
 * at most `maxBytes` long (a single message longer than that goes alone). A sender's batch can
 * hold hundreds of moves, each with its walk's candidates for the partition, and a broker refuses
 * a record above its `message.max.bytes` (1 MB by default).
 */
export function encodeRepairRecords(messages: readonly RepairMessage[], maxBytes: number): string[] {
  const records: string[] = [];
  let parts: string[] = [];
  let bytes = 2;
  for (const { candidates, ...rest } of messages) {
    const wire: WireMessage = { ...rest, candidates: [candidates.map((c) => c.studentId), candidates.map((c) => c.similarity), candidates.map((c) => c.version)] };
    const part = JSON.stringify(wire);
    const partBytes = Buffer.byteLength(part) + 1;
    if (parts.length > 0 && bytes + partBytes > maxBytes) {
      records.push(`[${parts.join(',')}]`);
      parts = [];
      bytes = 2;
    }
    parts.push(part);
    bytes += partBytes;
  }
  if (parts.length > 0) records.push(`[${parts.join(',')}]`);
  return records;
}

export type ParsedRepairRecord = { ok: true; messages: RepairMessage[] } | { ok: false; reason: string };

/**
 * One record of the repair topic: a JSON list of repair messages, all for the record's own
 * partition (the owner of partition p judges only its own pools). Never throws.
 */
export function parseRepairRecord(record: TransportRecord): ParsedRepairRecord {
  if (record.value === null || record.value.length === 0) return { ok: false, reason: 'empty value' };
  let json: unknown;
  try {
    json = JSON.parse(record.value.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `value is not JSON: ${(error as Error).message}` };
  }
  const parsed = z.array(wireMessageSchema).safeParse(json);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') };
  const elsewhere = parsed.data.find((m) => m.partition !== record.partition);
  if (elsewhere) return { ok: false, reason: `a message for partition ${elsewhere.partition} on partition ${record.partition}` };
  return {
    ok: true,
    messages: parsed.data.map(({ candidates: [ids, similarities, versions], ...rest }) => ({
      ...rest,
      candidates: ids.map((studentId, i) => ({ studentId, similarity: similarities[i], version: versions[i] })),
    })),
  };
}
