import { z } from 'zod';
import { RepairMessage } from '../graph/repair-protocol';
import { studentIdSchema, TransportRecord } from './embedding-event';

const walkCandidateSchema = z.object({ studentId: studentIdSchema, similarity: z.number().finite(), version: z.number().int().nonnegative() });

const repairMessageSchema = z.object({
  partition: z.number().int().nonnegative(),
  subject: studentIdSchema,
  subjectVersion: z.number().int().nonnegative(),
  kind: z.enum(['moved', 'left']),
  candidates: z.array(walkCandidateSchema),
  seeds: z.array(studentIdSchema),
  eventId: z.string().uuid(),
  eventTimestamp: z.number().finite(),
});

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
  const parsed = z.array(repairMessageSchema).safeParse(json);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') };
  const elsewhere = parsed.data.find((m) => m.partition !== record.partition);
  if (elsewhere) return { ok: false, reason: `a message for partition ${elsewhere.partition} on partition ${record.partition}` };
  return { ok: true, messages: parsed.data };
}
