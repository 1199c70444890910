import { FailureKind } from './failure-classification';

/**
 * Every reason an event ends on the dead-letter topic, and the words it carries there: the
 * event contract rejects malformed records (dto/), the graph refuses unusable vectors, the error
 * policy gives up on events that cannot be applied. A small fixed set, so it can label metrics.
 */
export type RejectionCategory =
  | 'invalid-key'
  | 'too-large'
  | 'invalid-json'
  | 'invalid-field'
  | 'key-mismatch'
  | 'zero-vector'
  | 'wrong-dimension'
  | 'retries-exhausted'
  | 'processing-error';

export interface Rejection {
  category: RejectionCategory;
  reason: string;
}

/** A student's stored vector cannot take part in the graph; the student is taken out of it. */
export function unusableEmbedding(defect: 'zero vector' | 'wrong dimension', dimension: number): Rejection {
  return defect === 'zero vector'
    ? { category: 'zero-vector', reason: 'embedding is a zero vector (cosine similarity is undefined); the student is left out of the graph' }
    : { category: 'wrong-dimension', reason: `embedding does not have ${dimension} dimensions; the student is left out of the graph` };
}

/** The error policy gave up on an event: conflicts outlasted the retries, or applying it fails. */
export function applyFailure(kind: Exclude<FailureKind, 'unavailable' | 'fenced'>, error: Error): Rejection {
  return kind === 'transient'
    ? { category: 'retries-exhausted', reason: `retries exhausted: ${error.message}` }
    : { category: 'processing-error', reason: `failed: ${error.message}` };
}
