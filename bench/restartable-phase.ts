import { serverStartTime } from './bench-database';

const DEFAULT_MAX_ATTEMPTS = 5;
const PAUSE_BEFORE_RERUN_MS = 20_000;

/** Thrown by a phase that saw its services disturbed (e.g. Kafka unreachable): its figures are void. */
export class DisturbedRunError extends Error {}

/**
 * Runs a phase; when PostgreSQL restarted meanwhile or the phase reports a disturbance (other
 * people's fault tests stop the services on this shared machine), the phase's figures are void,
 * so it runs again from its own clean state.
 * `work` gets the attempt number (1 first) so that a rerun can reset what the first one changed,
 * or resume it (such a phase may allow more attempts, since none of them is wasted).
 */
export async function restartablePhase<T>(label: string, notes: string[], work: (attempt: number) => Promise<T>, maxAttempts = DEFAULT_MAX_ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const startedAt = await serverStartTime();
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await work(attempt) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const disturbance =
      (await serverStartTime()) !== startedAt ? 'PostgreSQL was restarted' : !outcome.ok && outcome.error instanceof DisturbedRunError ? outcome.error.message : null;
    if (!disturbance) {
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
    if (attempt >= maxAttempts) throw new Error(`${disturbance} during ${label}, ${attempt} times; giving up`);
    const note = `${disturbance} during "${label}" (attempt ${attempt}; someone else's fault tests?); the phase ran again.`;
    console.log(`  !! ${note}`);
    notes.push(note);
    await new Promise((resolve) => setTimeout(resolve, PAUSE_BEFORE_RERUN_MS));
  }
}
