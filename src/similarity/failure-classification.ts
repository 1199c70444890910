import { FencedError } from './fenced-error';

/**
 * How the worker treats a failed batch:
 * - unavailable: PostgreSQL cannot be reached (down, restarting, failing over, out of
 *   connections). It comes back by itself: retried with capped backoff for as long as it lasts.
 *   Nothing can progress meanwhile, and dead-lettering would only turn an outage into manual
 *   replays. Readiness reports it through the database ping.
 * - blocked: PostgreSQL answers but refuses this service: a missing table, column or schema,
 *   a revoked grant, a wrong password, a missing database, or SQL the schema does not accept.
 *   A deployment fault, not the event's, so it is retried like an outage and never dead-lettered
 *   (the events apply once someone repairs it); but no retry repairs it, and the ping still
 *   answers, so the worker reports it itself (readiness, a gauge, one log line each way).
 * - transient: a conflict that a retry resolves (serialization failure, deadlock, lock or
 *   statement timeout). Retried a bounded number of times, then dead-lettered.
 * - fenced: another worker took the partition since this one did (FencedError). Nothing was
 *   written and nothing here can make it writable: not retried, never dead-lettered; the batch
 *   is abandoned (its offsets stay) and the partition's new owner applies it.
 * - permanent: anything else (a data error the input caused). Not retried: the batch is split
 *   to find the event that causes it, which is dead-lettered; the rest are applied.
 */
export type FailureKind = 'unavailable' | 'blocked' | 'transient' | 'fenced' | 'permanent';

/**
 * SQLSTATE classes that describe the deployment, never the data: 28 invalid authorization
 * (password, role, pg_hba.conf), 3D invalid catalog name (the database), 3F invalid schema name,
 * 42 syntax error or access rule violation (missing relation or column, insufficient privilege,
 * SQL written for another schema). Statements are parameterised, so no event's content can raise
 * them. Class 08 (connection exception) is the network, not the deployment: unavailable.
 */
const BLOCKED_SQLSTATE_CLASSES = ['28', '3D', '3F', '42'];
const UNAVAILABLE_SQLSTATE_CLASSES = ['08'];
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53400']);
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '57014', '53200']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
const UNAVAILABLE_MESSAGES = [/Connection terminated/i, /timeout exceeded when trying to connect/i, /the database system is (starting up|shutting down)/i, /Client has encountered a connection error/i, /not queryable/i, /Connection is not established/i];
const SQLSTATE = /^[0-9A-Z]{5}$/;

interface ErrorLike {
  code?: unknown;
  message?: unknown;
}

/** The error and what TypeORM or a wrapper keeps inside it, where the driver's code may be. */
function layersOf(error: unknown): ErrorLike[] {
  return [error, (error as { driverError?: unknown })?.driverError, (error as { cause?: unknown })?.cause].filter(Boolean) as ErrorLike[];
}

export function classifyFailure(error: unknown): FailureKind {
  if (error instanceof FencedError) return 'fenced';
  for (const e of layersOf(error)) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (UNAVAILABLE_SQLSTATE_CLASSES.some((c) => code.startsWith(c)) || UNAVAILABLE_SQLSTATES.has(code) || NETWORK_CODES.has(code)) return 'unavailable';
    if (SQLSTATE.test(code) && BLOCKED_SQLSTATE_CLASSES.some((c) => code.startsWith(c))) return 'blocked';
    if (TRANSIENT_SQLSTATES.has(code)) return 'transient';
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(e.message as string))) return 'unavailable';
  }
  return 'permanent';
}

/** Whether the error policy retries this kind for as long as it lasts instead of giving up. */
export function retriedWhileItLasts(kind: FailureKind): kind is 'unavailable' | 'blocked' {
  return kind === 'unavailable' || kind === 'blocked';
}

/** The SQLSTATE PostgreSQL gave for the error and its message, wherever the driver put them; null when there is none. */
export function databaseErrorOf(error: unknown): { sqlstate: string; message: string } | null {
  for (const e of layersOf(error)) {
    if (typeof e.code === 'string' && SQLSTATE.test(e.code) && !NETWORK_CODES.has(e.code)) return { sqlstate: e.code, message: String(e.message ?? '') };
  }
  return null;
}

const REMEDIES: Record<string, string> = {
  '28': 'the database refuses the credentials: the graph cannot be written until they are fixed (check the user and password in DB_URL, the role, pg_hba.conf)',
  '3D': 'the database does not exist: the graph cannot be written until it does (check DB_URL, run migrations)',
  '3F': 'the schema does not exist: the graph cannot be written until it does (run migrations, check search_path)',
  '42': 'the graph cannot be written until the schema is repaired (run migrations / check grants)',
};

/** One sentence for people: PostgreSQL's message and what has to happen before writes resume. */
export function blockedWriteReason(sqlstate: string, message: string): string {
  const remedy = REMEDIES[sqlstate.slice(0, 2)] ?? 'the graph cannot be written until the database is repaired';
  return `${message}: ${remedy}`;
}
