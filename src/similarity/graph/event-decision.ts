import { EmbeddingEvent } from '../dto/embedding-event';

/** What the graph needs to know of a stored embedding, without the vector itself. */
export interface EmbeddingState {
  studentId: string;
  version: number;
  /** Why the vector cannot take part in the graph; null when it can. */
  defect: 'zero vector' | 'wrong dimension' | null;
}

/**
 * What one (coalesced) event does to the graph. The embeddings table is the truth; the event
 * says which student to look at again:
 * - recompute: the stored embedding is current and usable; the student's neighbours are recomputed;
 *   an unusable one (zero vector: cosine undefined; wrong dimension) takes the student out instead;
 * - remove: the student leaves the graph. A versioned delete also removes an embedding row of the
 *   same or an older version; a delete without a version never removes a row, and while the row
 *   is there the student stays (it may have returned since the delete was sent);
 * - stale: the event is older than the stored embedding; the newer event follows, nothing to do.
 */
export type EventDecision =
  | { action: 'recompute' }
  | { action: 'remove'; reason: 'deleted' | 'no embedding' | 'zero vector' | 'wrong dimension'; deleteEmbedding: boolean }
  | { action: 'stale'; storedVersion: number };

export function decideEvent(event: EmbeddingEvent, embedding: EmbeddingState | undefined): EventDecision {
  if (embedding && event.version !== null && event.version < embedding.version) {
    return { action: 'stale', storedVersion: embedding.version };
  }
  if (!embedding) return { action: 'remove', reason: event.op === 'delete' ? 'deleted' : 'no embedding', deleteEmbedding: false };
  if (event.op === 'delete' && event.version !== null) return { action: 'remove', reason: 'deleted', deleteEmbedding: true };
  if (embedding.defect) return { action: 'remove', reason: embedding.defect, deleteEmbedding: false };
  return { action: 'recompute' };
}
