import { Neighbor } from '../../src/similarity/graph/neighbor';
import { NeighborPool } from '../../src/similarity/graph/neighbor-pool';
import { PoolSettings } from '../../src/similarity/graph/repair-pools';
import {
  applyRepairs,
  coalesceRepairs,
  CurrentEmbeddings,
  fenceCheck,
  RepairMessage,
  repairsByPartition,
  repairsForMove,
  repairsForRemoval,
  takeOwnership,
} from '../../src/similarity/graph/repair-protocol';
import { coPartitionedAssignment, repairTopicMismatch, repairTopicName } from '../../src/kafka/co-partitioning';

const n = (studentId: string, similarity: number): Neighbor => ({ studentId, similarity });
const settings: PoolSettings = { k: 2, capacity: 3, threshold: 0.1 };
/** Which pools the owner's scan found each subject may enter. */
const offered = (offers: Record<string, string[]>) => new Map(Object.entries(offers).map(([subject, owners]) => [subject, new Set(owners)]));

/** Current vectors given as a table of similarities (symmetric) and versions. */
function embeddings(versions: Record<string, number>, similarities: Record<string, number>): CurrentEmbeddings {
  return {
    versionOf: (id) => versions[id],
    similarity: (a, b) => {
      const found = similarities[`${a}-${b}`] ?? similarities[`${b}-${a}`];
      if (found === undefined) throw new Error(`no similarity for ${a}-${b} in the test's table`);
      return found;
    },
  };
}

const cause = { eventId: 'e1', eventTimestamp: 1000 };

const moved = (subject: string, subjectVersion: number, extra: Partial<RepairMessage> = {}): RepairMessage => ({
  partition: 0,
  subject,
  subjectVersion,
  kind: 'moved',
  candidates: [],
  seeds: [],
  eventId: `event-${subject}-${subjectVersion}`,
  eventTimestamp: 1000,
  ...extra,
});

describe('repair messages a change sends', () => {
  it('a move is announced once to every partition, its walk split by the candidates\' partitions', () => {
    const partitionOf = (id: string) => ({ b: 0, c: 2, d: 2 })[id]!;
    const walk = [
      { studentId: 'b', similarity: 0.9, version: 1 },
      { studentId: 'c', similarity: 0.8, version: 4 },
      { studentId: 'd', similarity: 0.7, version: 2 },
    ];
    const messages = repairsForMove({ subject: 'x', subjectVersion: 7, walk, seeds: ['b'], ...cause }, 3, partitionOf);
    expect(messages.map((m) => m.partition)).toEqual([0, 1, 2]);
    expect(messages.map((m) => m.candidates.map((c) => c.studentId))).toEqual([['b'], [], ['c', 'd']]);
    expect(messages.every((m) => m.kind === 'moved' && m.subject === 'x' && m.subjectVersion === 7 && m.seeds[0] === 'b' && m.eventId === 'e1' && m.eventTimestamp === 1000)).toBe(true);
  });

  it('never lists the subject as its own candidate', () => {
    const messages = repairsForMove({ subject: 'x', subjectVersion: 1, walk: [{ studentId: 'x', similarity: 1, version: 1 }], ...cause }, 1, () => 0);
    expect(messages[0].candidates).toEqual([]);
  });

  it('a removal is announced once to every partition, without candidates', () => {
    const messages = repairsForRemoval({ subject: 'x', subjectVersion: 3, ...cause }, 2);
    expect(messages).toEqual([
      { partition: 0, subject: 'x', subjectVersion: 3, kind: 'left', candidates: [], seeds: [], ...cause },
      { partition: 1, subject: 'x', subjectVersion: 3, kind: 'left', candidates: [], seeds: [], ...cause },
    ]);
  });

  it('groups messages by destination partition', () => {
    const grouped = repairsByPartition([...repairsForRemoval({ subject: 'x', subjectVersion: 1, ...cause }, 2), ...repairsForRemoval({ subject: 'y', subjectVersion: 1, ...cause }, 2)]);
    expect([...grouped.keys()]).toEqual([0, 1]);
    expect(grouped.get(1)!.map((m) => m.subject)).toEqual(['x', 'y']);
  });

  it('keeps one message per subject: the newest version, with the candidates of every message of that version', () => {
    const first = moved('x', 2, { candidates: [{ studentId: 'b', similarity: 0.7, version: 1 }], seeds: ['d'] });
    const again = moved('x', 2, { candidates: [{ studentId: 'b', similarity: 0.6, version: 3 }, { studentId: 'c', similarity: 0.4, version: 1 }], seeds: ['e'] });
    const [a, x] = coalesceRepairs([moved('a', 1), first, again]);
    expect(a.subject).toBe('a');
    expect(x.subjectVersion).toBe(2);
    expect(x.candidates).toEqual([{ studentId: 'b', similarity: 0.6, version: 3 }, { studentId: 'c', similarity: 0.4, version: 1 }]);
    expect(x.seeds).toEqual(['d', 'e']);
  });

  it('drops an older version\'s walk instead of carrying its figures under the newer version', () => {
    const older = moved('x', 1, { candidates: [{ studentId: 'y', similarity: 0.59, version: 1 }] });
    const newer = moved('x', 2, { candidates: [] });
    for (const order of [[older, newer], [newer, older]]) {
      const [x] = coalesceRepairs(order);
      expect(x.subjectVersion).toBe(2);
      expect(x.candidates).toEqual([]);
    }
  });

  it('a stale walk figure never puts the subject in a pool once the newer move has arrived', () => {
    const older = moved('x', 1, { candidates: [{ studentId: 'y', similarity: 0.59, version: 1 }] });
    const current = embeddings({ y: 1, x: 2 }, { 'y-x': 0.05 });
    const unchanged: NeighborPool = { entries: [n('b', 0.9)], bound: null };
    const repaired = applyRepairs(new Map([['y', unchanged]]), [older, moved('x', 2)], current, settings);
    expect(repaired.get('y')?.pool ?? unchanged).toEqual(unchanged);
  });
});

describe('the owner judging repairs', () => {
  const full: NeighborPool = { entries: [n('b', 0.9), n('c', 0.8), n('d', 0.7)], bound: n('d', 0.7) };

  it('re-scores a held subject at its current similarity', () => {
    const current = embeddings({ y: 1, c: 2, b: 1, d: 1 }, { 'y-c': 0.95 });
    const repaired = applyRepairs(new Map([['y', full]]), [moved('c', 2)], current, settings);
    expect(repaired.get('y')).toEqual({ pool: { entries: [n('c', 0.95), n('b', 0.9), n('d', 0.7)], bound: n('d', 0.7) }, needsRefill: false });
  });

  it('drops a held subject that left, and asks for a refill when the pool falls below K', () => {
    const pool: NeighborPool = { entries: [n('b', 0.9), n('c', 0.8)], bound: n('c', 0.8) };
    const repaired = applyRepairs(new Map([['y', pool]]), [{ ...moved('b', 3), kind: 'left' }], embeddings({ y: 1, c: 1 }, {}), settings);
    expect(repaired.get('y')).toEqual({ pool: { entries: [n('c', 0.8)], bound: n('c', 0.8) }, needsRefill: true });
  });

  it('a "left" message for a subject that has since returned is judged as the return', () => {
    const current = embeddings({ y: 1, x: 5 }, { 'y-x': 0.85 });
    const repaired = applyRepairs(new Map([['y', full]]), [{ ...moved('x', 4), kind: 'left' }], current, settings, offered({ x: ['y'] }));
    expect(repaired.get('y')!.pool.entries.map((e) => e.studentId)).toEqual(['b', 'x', 'c']);
  });

  it('offers a non-holder the subject only if it ranks before the current bound', () => {
    const current = embeddings({ y: 1, x: 1, z: 1 }, { 'y-x': 0.75, 'z-x': 0.6 });
    const z: NeighborPool = { entries: [n('b', 0.9), n('c', 0.8), n('d', 0.7)], bound: n('d', 0.7) };
    const repaired = applyRepairs(new Map([['y', full], ['z', z]]), [moved('x', 1)], current, settings, offered({ x: ['y', 'z'] }));
    expect(repaired.get('y')!.pool).toEqual({ entries: [n('b', 0.9), n('c', 0.8), n('x', 0.75)], bound: n('d', 0.7) });
    expect(repaired.get('z')!.pool).toBe(z);
  });

  it('applying the same messages twice gives what applying them once gave', () => {
    const current = embeddings({ y: 1, x: 2, c: 3, b: 1, d: 1 }, { 'y-x': 0.85, 'y-c': 0.2 });
    const messages = [moved('x', 2), moved('c', 3)];
    const offers = offered({ x: ['y'], c: ['y'] });
    const once = applyRepairs(new Map([['y', full]]), messages, current, settings, offers);
    const twice = applyRepairs(new Map([...once].map(([id, r]) => [id, r.pool])), messages, current, settings, offers);
    expect(twice.get('y')!.pool).toEqual(once.get('y')!.pool);
  });

  it('an older message than the current vector is judged at the current similarity, not its own figures', () => {
    const stale = moved('x', 1, { candidates: [{ studentId: 'y', similarity: 0.99, version: 1 }] });
    const current = embeddings({ y: 1, x: 2 }, { 'y-x': 0.3 });
    const repaired = applyRepairs(new Map([['y', { entries: [n('b', 0.9)], bound: null }]]), [stale], current, settings);
    expect(repaired.get('y')!.pool.entries).toEqual([n('b', 0.9), n('x', 0.3)]);
  });

  it('uses the carried similarity when both versions are the current ones', () => {
    const fresh = moved('x', 2, { candidates: [{ studentId: 'y', similarity: 0.42, version: 1 }] });
    const current = embeddings({ y: 1, x: 2 }, {});
    const repaired = applyRepairs(new Map([['y', { entries: [], bound: null }]]), [fresh], current, settings);
    expect(repaired.get('y')!.pool.entries).toEqual([n('x', 0.42)]);
  });

  it('judges only holders, listed candidates, seed holders and offered pools', () => {
    const current = embeddings({ x: 1, h: 1, c: 1, s: 1, o: 1 }, { 'h-x': 0.5, 'c-x': 0.5, 's-x': 0.5, 'o-x': 0.5 });
    const pools = new Map<string, NeighborPool>([
      ['h', { entries: [n('x', 0.2)], bound: null }],
      ['c', { entries: [], bound: null }],
      ['s', { entries: [n('seed', 0.9)], bound: null }],
      ['o', { entries: [], bound: null }],
    ]);
    const message = moved('x', 1, { candidates: [{ studentId: 'c', similarity: 0.5, version: 1 }], seeds: ['seed'] });
    expect([...applyRepairs(pools, [message], current, settings).keys()].sort()).toEqual(['c', 'h', 's']);
    expect([...applyRepairs(pools, [message], current, settings, offered({ x: ['o'] })).keys()].sort()).toEqual(['c', 'h', 'o', 's']);
  });

  it('never offers a subject to its own pool; a pool whose owner has no vector only drops the subject, and is not refilled', () => {
    const current = embeddings({ x: 1 }, {});
    const pools = new Map<string, NeighborPool>([
      ['x', { entries: [n('b', 0.9)], bound: null }],
      ['gone', { entries: [n('x', 0.9), n('b', 0.5)], bound: n('b', 0.5) }],
    ]);
    const repaired = applyRepairs(pools, [moved('x', 1)], current, settings, offered({ x: ['x', 'gone'] }));
    expect(repaired.has('x')).toBe(false);
    expect(repaired.get('gone')).toEqual({ pool: { entries: [n('b', 0.5)], bound: n('b', 0.5) }, needsRefill: false });
  });
});

describe('topics', () => {
  it('names the repair topic after the input topic', () => {
    expect(repairTopicName('student.embeddings')).toBe('student.embeddings.repairs');
  });

  it('refuses a repair topic that is missing or has another partition count', () => {
    const input = { topic: 'in', partitionCount: 6 };
    expect(repairTopicMismatch(input, { topic: 'in.repairs', partitionCount: 6 })).toBeNull();
    expect(repairTopicMismatch(input, { topic: 'in.repairs', partitionCount: 3 })).toMatch(/3 partitions.*has 6/);
    expect(repairTopicMismatch(input, undefined)).toMatch(/does not exist/);
  });
});

describe('co-partitioned assignment', () => {
  const topics = [
    { topic: 'events', partitionCount: 5 },
    { topic: 'events.repairs', partitionCount: 5 },
  ];

  it('gives partition p of both topics to the same member, balanced', () => {
    const assignment = coPartitionedAssignment(['w2', 'w1'], topics);
    for (const [, byTopic] of assignment) expect(byTopic.get('events')).toEqual(byTopic.get('events.repairs'));
    expect([...assignment.values()].map((t) => t.get('events')!.length).sort()).toEqual([2, 3]);
    expect([...assignment.values()].flatMap((t) => t.get('events')!).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps partitions with their previous owners when a member joins, moving only what balance needs', () => {
    const previous = new Map([[0, 'w1'], [1, 'w1'], [2, 'w1'], [3, 'w2'], [4, 'w2']]);
    const assignment = coPartitionedAssignment(['w1', 'w2', 'w3'], topics, previous);
    const moves = [...previous].filter(([p, owner]) => !assignment.get(owner)!.get('events')!.includes(p));
    expect(moves).toHaveLength(1);
    expect(assignment.get('w3')!.get('events')).toHaveLength(1);
  });

  it('hands a departed member\'s partitions to the others', () => {
    const previous = new Map([[0, 'w1'], [1, 'w2'], [2, 'w3'], [3, 'w1'], [4, 'w2']]);
    const assignment = coPartitionedAssignment(['w1', 'w2'], topics, previous);
    expect(assignment.get('w1')!.get('events')).toEqual(expect.arrayContaining([0, 3]));
    expect(assignment.get('w2')!.get('events')).toEqual(expect.arrayContaining([1, 4]));
    expect([...assignment.values()].flatMap((t) => t.get('events')!).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('leaves members beyond the partition count idle', () => {
    const assignment = coPartitionedAssignment(['a', 'b', 'c'], [{ topic: 't', partitionCount: 2 }]);
    expect([...assignment.values()].map((t) => t.get('t')!.length)).toEqual([1, 1, 0]);
  });

  it('refuses topics with different partition counts', () => {
    expect(() => coPartitionedAssignment(['a'], [topics[0], { topic: 'events.repairs', partitionCount: 4 }])).toThrow(/equal partition counts/);
  });
});

describe('owner epochs', () => {
  it('each take-over of a partition moves it to the next epoch, also a take-back by the same member', () => {
    const first = takeOwnership(undefined, 3, 'w1');
    const second = takeOwnership(first, 3, 'w2');
    const third = takeOwnership(second, 3, 'w1');
    expect([first.epoch, second.epoch, third.epoch]).toEqual([1, 2, 3]);
  });

  it('lets the current owner write and fences one that lost the partition', () => {
    const old = takeOwnership(undefined, 0, 'w1');
    const now = takeOwnership(old, 0, 'w2');
    expect(fenceCheck(now, now)).toEqual({ ok: true });
    expect(fenceCheck(old, now)).toEqual({ ok: false, reason: expect.stringMatching(/epoch 2 \(w2\).*epoch 1/) });
    expect(fenceCheck(takeOwnership(old, 0, 'w1'), now).ok).toBe(false);
    expect(fenceCheck(now, undefined).ok).toBe(false);
  });
});
