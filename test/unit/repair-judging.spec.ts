import { NeighborPool } from '../../src/similarity/graph/neighbor-pool';
import { causeOfListChange, currentEmbeddings, similaritiesNeeded } from '../../src/similarity/graph/repair-judging';
import { applyRepairs, RepairMessage } from '../../src/similarity/graph/repair-protocol';

const pool = (...members: [string, number][]): NeighborPool => ({ entries: members.map(([studentId, similarity]) => ({ studentId, similarity })), bound: null });
const message = (subject: string, extra: Partial<RepairMessage> = {}): RepairMessage => ({
  partition: 0,
  subject,
  subjectVersion: 1,
  kind: 'moved',
  candidates: [],
  seeds: [],
  eventId: `event-${subject}`,
  eventTimestamp: 0,
  ...extra,
});
const pairs = (found: { owner: string; subject: string }[]) => found.map((p) => `${p.owner}>${p.subject}`).sort();

describe('similaritiesNeeded: the pairs an owner scores before judging', () => {
  it('the offered pools of each subject (the exact scan), but never a subject against its own pool and never a pool not loaded', () => {
    const pools = new Map([['y', pool()], ['x', pool()]]);
    const offers = new Map([['x', new Set(['y', 'x'])], ['z', new Set(['x', 'y', 'unloaded'])]]);
    expect(pairs(similaritiesNeeded(pools, [message('x'), message('z')], offers))).toEqual(['x>z', 'y>x', 'y>z']);
  });

  it('index mode: holders of the subject, its candidates and holders of its seeds; no other pool', () => {
    const pools = new Map([
      ['holder', pool(['x', 0.9])],
      ['candidate', pool()],
      ['seedHolder', pool(['s', 0.8])],
      ['bystander', pool(['t', 0.8])],
    ]);
    const found = similaritiesNeeded(pools, [message('x', { candidates: [{ studentId: 'candidate', similarity: 0.5, version: 1 }], seeds: ['s'] })]);
    expect(pairs(found)).toEqual(['candidate>x', 'holder>x', 'seedHolder>x']);
  });

  it('index mode: a pool that takes an earlier subject of the batch is scored for a later subject seeded by it', () => {
    // 'a' is judged first (coalesced order) and may enter y through the candidate list; 'b' is
    // seeded by 'a', so y may judge 'b' although y held neither before the batch.
    const pools = new Map([['y', pool(['q', 0.1])]]);
    const messages = [message('b', { seeds: ['a'] }), message('a', { candidates: [{ studentId: 'y', similarity: 0.9, version: 1 }] })];
    expect(pairs(similaritiesNeeded(pools, messages))).toEqual(['y>a', 'y>b']);
    const scored = similaritiesNeeded(pools, messages).map((p) => ({ ...p, similarity: 0.7 }));
    const current = currentEmbeddings(new Map([['y', 1], ['a', 1], ['b', 1], ['q', 1]]), scored);
    const judged = applyRepairs(pools, messages, current, { k: 1, capacity: 2, threshold: 0 });
    expect(judged.get('y')!.pool.entries.map((n) => n.studentId)).toEqual(['a', 'b']);
  });
});

describe('currentEmbeddings', () => {
  it('answers a loaded pair in either order and refuses one that was not loaded', () => {
    const current = currentEmbeddings(new Map([['y', 3]]), [{ owner: 'y', subject: 'x', similarity: 0.4 }]);
    expect(current.similarity('y', 'x')).toBe(0.4);
    expect(current.similarity('x', 'y')).toBe(0.4);
    expect(current.versionOf('y')).toBe(3);
    expect(current.versionOf('x')).toBeUndefined();
    expect(() => current.similarity('y', 'z')).toThrow(/not loaded/);
  });
});

describe('causeOfListChange', () => {
  it('names the message whose subject entered or left the list, else the first message', () => {
    const messages = [message('a'), message('b')];
    expect(causeOfListChange({ upserts: [{ studentId: 'b', similarity: 0.5 }], removals: [] }, pool(), messages).eventId).toBe('event-b');
    expect(causeOfListChange({ upserts: [], removals: ['c'] }, pool(['c', 0.2]), messages).eventId).toBe('event-a');
    expect(causeOfListChange({ upserts: [{ studentId: 'r', similarity: 0.3 }], removals: ['b'] }, pool(['b', 0.4]), messages).eventId).toBe('event-b');
  });
});
