import { coalesceByStudent } from '../../src/similarity/graph/coalesce-events';
import { compareNeighbors } from '../../src/similarity/graph/neighbor';
import { poolFromSearch } from '../../src/similarity/graph/neighbor-pool';
import { EmbeddingEvent } from '../../src/similarity/dto/embedding-event';
import { ivfflatLists } from '../../migrations/1764100000001-create-vector-index';
import { decideEvent } from '../../src/similarity/graph/event-decision';

const n = (studentId: string, similarity: number) => ({ studentId, similarity });

describe('ranking and the threshold, as a fresh search result becomes a pool (poolFromSearch)', () => {
  const top = (candidates: ReturnType<typeof n>[], k: number, threshold: number) => poolFromSearch(candidates, k, threshold).entries.slice(0, k);

  it('keeps the k most similar at or above the threshold, most similar first', () => {
    expect(top([n('b', 0.2), n('c', 0.9), n('d', 0.5), n('e', 0.7)], 2, 0.1)).toEqual([n('c', 0.9), n('e', 0.7)]);
  });

  it('keeps a similarity exactly at the threshold and drops one just below', () => {
    expect(top([n('b', 0.1), n('c', 0.0999), n('d', -0.4)], 5, 0.1)).toEqual([n('b', 0.1)]);
  });

  it('works with a negative threshold, since cosine similarity lies in [-1, 1]', () => {
    expect(top([n('b', -0.2), n('c', -0.9)], 5, -0.5)).toEqual([n('b', -0.2)]);
  });

  it('never keeps a NaN similarity (a zero vector), even with the lowest threshold', () => {
    expect(top([n('b', NaN), n('c', 0.5)], 5, -1)).toEqual([n('c', 0.5)]);
  });

  it('breaks ties by the smaller student id', () => {
    expect(top([n('z', 0.5), n('m', 0.5), n('b', 0.4)], 2, 0)).toEqual([n('m', 0.5), n('z', 0.5)]);
    expect(compareNeighbors(n('m', 0.5), n('z', 0.5))).toBeLessThan(0);
  });
});

describe('coalesceByStudent', () => {
  const event = (studentId: string, offset: number, version: number | null, op: 'upsert' | 'delete' = 'upsert'): EmbeddingEvent => ({
    studentId, eventId: `e${offset}`, version, op,
  });

  it('keeps the last event of each student', () => {
    const result = coalesceByStudent([event('a', 1, 1), event('b', 2, 1), event('a', 3, 2, 'delete')]);
    expect(result.map((e) => e.eventId).sort()).toEqual(['e2', 'e3']);
  });

  it('does not let a stale replay replace a newer event of the same batch', () => {
    expect(coalesceByStudent([event('a', 1, 5), event('a', 2, 4)]).map((e) => e.eventId)).toEqual(['e1']);
  });
});

describe('ivfflatLists', () => {
  it('follows pgvector guidance: rows/1000 up to a million rows, sqrt above', () => {
    expect(ivfflatLists(0)).toBe(1);
    expect(ivfflatLists(100_000)).toBe(100);
    expect(ivfflatLists(4_000_000)).toBe(2000);
  });
});

describe('decideEvent', () => {
  const event = (op: 'upsert' | 'delete', version: number | null): EmbeddingEvent => ({ studentId: 's', eventId: 'e', version, op });
  const stored = (version: number, defect: 'zero vector' | 'wrong dimension' | null = null) => ({ studentId: 's', version, defect });

  it('recomputes a current, usable embedding', () => {
    expect(decideEvent(event('upsert', 3), stored(3))).toEqual({ action: 'recompute' });
    expect(decideEvent(event('upsert', null), stored(3))).toEqual({ action: 'recompute' });
  });

  it('ignores an event older than the stored embedding, a delete included', () => {
    expect(decideEvent(event('upsert', 2), stored(3))).toEqual({ action: 'stale', storedVersion: 3 });
    expect(decideEvent(event('delete', 2), stored(3))).toEqual({ action: 'stale', storedVersion: 3 });
  });

  it('removes a student whose embedding is gone, or a zero vector', () => {
    expect(decideEvent(event('upsert', 3), undefined)).toMatchObject({ action: 'remove', reason: 'no embedding', deleteEmbedding: false });
    expect(decideEvent(event('upsert', 3), stored(3, 'zero vector'))).toMatchObject({ action: 'remove', reason: 'zero vector' });
    expect(decideEvent(event('upsert', 3), stored(3, 'wrong dimension'))).toMatchObject({ action: 'remove', reason: 'wrong dimension' });
  });

  it('a versioned delete removes the student and its row; an unversioned one never deletes a present row', () => {
    expect(decideEvent(event('delete', 4), stored(3))).toEqual({ action: 'remove', reason: 'deleted', deleteEmbedding: true });
    expect(decideEvent(event('delete', null), undefined)).toMatchObject({ action: 'remove', deleteEmbedding: false });
    expect(decideEvent(event('delete', null), stored(3))).toEqual({ action: 'recompute' });
  });
});
