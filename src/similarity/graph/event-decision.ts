import { EmbeddingEvent } from '../dto/embedding-event';
import { EmbeddingState } from '../embedding.repository';

/**
 * What one (coalesced) event does to the graph:
 * - recompute: the student's stored embedding is current and usable; its neighbours are recomputed;
 * - remove: the student leaves the graph (a delete, or its embedding is gone or unusable);
 * - stale: the event is older than the stored embedding; a newer event will follow, nothing to do.
 */
export type EventDecision =
  | { action: 'recompute' }
  | { action: 'remove'; reason: 'deleted' | 'no embedding' | 'zero vector' }
  | { action: 'stale'; storedVersion: number };

export function decideEvent(event: EmbeddingEvent, embedding: EmbeddingState | undefined): EventDecision {
  if (embedding && event.version !== null && event.version < embedding.version) {
    return { action: 'stale', storedVersion: embedding.version };
  }
  if (event.op === 'delete') return { action: 'remove', reason: 'deleted' };
  if (!embedding) return { action: 'remove', reason: 'no embedding' };
  if (!embedding.usable) return { action: 'remove', reason: 'zero vector' };
  return { action: 'recompute' };
}
