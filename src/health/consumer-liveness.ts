import { ConsumerSnapshot } from '../kafka/consumer-status';
import { LagReading } from '../kafka/consumer-lag.monitor';

export interface LivenessSettings {
  /** No progress for this long, with records waiting on the replica's own partitions: stalled. */
  stallTimeoutMs: number;
  /** A lag reading older than this says nothing about the present (Kafka unreachable). */
  maxReadingAgeMs: number;
}

/** Records waiting on the given partitions, by the reading; null when there is no fresh reading. */
function lagOnPartitions(reading: LagReading | null, partitions: number[], now: number, maxReadingAgeMs: number): number | null {
  if (!reading || now - reading.readAt > maxReadingAgeMs) return null;
  const mine = new Set(partitions);
  return reading.partitions.filter((p) => mine.has(p.partition)).reduce((sum, p) => sum + p.lag, 0);
}

/**
 * Why this replica's consumer is not alive, or null when it is: it stopped for good, or it owns
 * partitions with records waiting and has made no progress for the stall timeout. An outage of
 * Kafka (no fresh reading) or of PostgreSQL (retries count as progress) never makes it dead, nor
 * does a database that refuses the writes (also retried): a restart repairs neither, and would
 * only move the partitions around. Readiness reports both instead. What the stall rule catches is
 * a consumer that does nothing at all, not even retry.
 */
export function consumerLivenessProblem(consumer: ConsumerSnapshot, reading: LagReading | null, now: number, settings: LivenessSettings): string | null {
  if (consumer.phase === 'failed') return `the Kafka consumer stopped: ${consumer.detail}`;
  if (consumer.phase !== 'running') return null;
  const waiting = lagOnPartitions(reading, consumer.assignedPartitions, now, settings.maxReadingAgeMs);
  const idleMs = now - consumer.lastProgressAt;
  if (waiting !== null && waiting > 0 && reading!.readAt > consumer.lastProgressAt && idleMs > settings.stallTimeoutMs) {
    return `the Kafka consumer made no progress for ${Math.round(idleMs / 1000)} s with ${waiting} records waiting on its partitions ${consumer.assignedPartitions.join(',')}`;
  }
  return null;
}
