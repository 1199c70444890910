/**
 * How the worker treats a failed batch:
 * - unavailable: PostgreSQL cannot be reached (down, restarting, failing over) or cannot serve
 *   this service (a missing table or permission: a deployment fault, not the event's). Retried
 *   with capped backoff for as long as it lasts: nothing can progress, and sending events to the
 *   dead-letter topic would only turn an outage into manual replays. Readiness reports outages.
 * - transient: a conflict that a retry resolves (serialization failure, deadlock, lock or
 *   statement timeout). Retried a bounded number of times, then dead-lettered.
 * - permanent: anything else (a data error the input caused). Not retried: the batch is split
 *   to find the event that causes it, which is dead-lettered; the rest are applied.
 */
export type FailureKind = 'unavailable' | 'transient' | 'permanent';

/** Connection exceptions, authorization, missing database, schema or object, permissions. */
const UNAVAILABLE_SQLSTATE_CLASSES = ['08', '28', '3D', '3F', '42'];
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53400']);
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '57014', '53200']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
const UNAVAILABLE_MESSAGES = [/Connection terminated/i, /timeout exceeded when trying to connect/i, /the database system is (starting up|shutting down)/i, /Client has encountered a connection error/i, /not queryable/i, /Connection is not established/i];

export function classifyFailure(error: unknown): FailureKind {
  const candidates = [error, (error as { driverError?: unknown })?.driverError, (error as { cause?: unknown })?.cause].filter(Boolean) as {
    code?: unknown;
    message?: unknown;
  }[];
  for (const e of candidates) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (UNAVAILABLE_SQLSTATE_CLASSES.some((c) => code.startsWith(c)) || UNAVAILABLE_SQLSTATES.has(code) || NETWORK_CODES.has(code)) return 'unavailable';
    if (TRANSIENT_SQLSTATES.has(code)) return 'transient';
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(e.message as string))) return 'unavailable';
  }
  return 'permanent';
}
