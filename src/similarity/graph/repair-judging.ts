import { Neighbor } from './neighbor';
import { NeighborPool } from './neighbor-pool';
import { askedAbout, coalesceRepairs, CurrentEmbeddings, HolderIndex, Offers, RepairMessage } from './repair-protocol';

/** A pool owner and a subject whose current similarity a judgement may ask for. */
export interface ScoredPair {
  owner: string;
  subject: string;
}

/**
 * Every (owner, subject) pair whose similarity applyRepairs may ask for when it judges
 * `messages` against `pools` with `offers`, so that the owner's transaction computes them in one
 * query before judging. Messages are judged in coalesceRepairs' order, and a pool can hold a seed
 * only if it held it before the batch or took it from an earlier message of the same batch: so a
 * pool judges a message if it held its subject or one of its seeds, is one of its candidates or
 * offers, or judged an earlier message whose subject is one of its seeds. A superset is harmless.
 */
export function similaritiesNeeded(pools: ReadonlyMap<string, NeighborPool>, messages: readonly RepairMessage[], offers: Offers = new Map()): ScoredPair[] {
  const coalesced = coalesceRepairs(messages);
  const holdersBefore = new HolderIndex(pools, askedAbout(coalesced));
  const judgedBySubject = new Map<string, Set<string>>();
  const pairs: ScoredPair[] = [];
  for (const message of coalesced) {
    const judged = new Set<string>(holdersBefore.of(message.subject));
    for (const c of message.candidates) judged.add(c.studentId);
    for (const owner of offers.get(message.subject) ?? []) judged.add(owner);
    for (const seed of message.seeds) {
      for (const owner of holdersBefore.of(seed)) judged.add(owner);
      for (const owner of judgedBySubject.get(seed) ?? []) judged.add(owner);
    }
    judged.delete(message.subject);
    for (const owner of judged) if (!pools.has(owner)) judged.delete(owner);
    judgedBySubject.set(message.subject, judged);
    for (const owner of judged) pairs.push({ owner, subject: message.subject });
  }
  return pairs;
}

/**
 * The vectors as the owner's transaction read them: versions of usable vectors, and the
 * similarities similaritiesNeeded asked for. Asking for any other pair is a bug in that
 * precomputation, and throws rather than judge from a wrong figure.
 */
export function currentEmbeddings(versions: ReadonlyMap<string, number>, similarities: readonly { owner: string; subject: string; similarity: number }[]): CurrentEmbeddings {
  const scored = new Map(similarities.map((s) => [pairKey(s.owner, s.subject), s.similarity]));
  return {
    versionOf: (studentId) => versions.get(studentId),
    similarity: (a, b) => {
      const similarity = scored.get(pairKey(a, b)) ?? scored.get(pairKey(b, a));
      if (similarity === undefined) throw new Error(`similarity of ${a} and ${b} was not loaded before judging repairs`);
      return similarity;
    },
  };
}

/**
 * The event to name as a changed public list's last event: the message whose subject entered,
 * left or moved in the list, or else (a refill brought in someone else) the first message the
 * batch judged.
 */
export function causeOfListChange(change: { upserts: Neighbor[]; removals: string[] }, before: NeighborPool, messages: readonly RepairMessage[]): RepairMessage {
  const touched = new Set([...change.upserts.map((n) => n.studentId), ...change.removals, ...before.entries.map((n) => n.studentId)]);
  return messages.find((m) => touched.has(m.subject)) ?? messages[0];
}

function pairKey(a: string, b: string): string {
  return `${a}\u0000${b}`;
}
