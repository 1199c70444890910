import { Neighbor } from '../../src/similarity/graph/neighbor';
import { listChange, NeighborPool, offerToPool, poolFromSearch, poolYieldsTopK, publicNeighbors, removeFromPool } from '../../src/similarity/graph/neighbor-pool';
import { applyRepairs, RepairMessage } from '../../src/similarity/graph/repair-protocol';
import { topOf } from '../support/oracle';
import { seededRandom } from '../../workload/synthetic-vectors';
import { poolsSubjectsMayEnter } from '../support/entry-scan';

const n = (studentId: string, similarity: number): Neighbor => ({ studentId, similarity });
const ids = (pool: NeighborPool) => pool.entries.map((e) => e.studentId);

describe('neighbor pool rules', () => {
  it('a search that returns fewer than asked for gives a complete pool', () => {
    expect(poolFromSearch([n('b', 0.5), n('c', 0.4)], 4, 0.1)).toEqual({ entries: [n('b', 0.5), n('c', 0.4)], bound: null });
  });

  it('a full search bounds the pool at its last entry', () => {
    expect(poolFromSearch([n('b', 0.5), n('c', 0.4)], 2, 0.1).bound).toEqual(n('c', 0.4));
  });

  it('a candidate more similar than the bound enters, and the evicted last entry becomes the bound', () => {
    const pool = offerToPool({ entries: [n('b', 0.9), n('c', 0.5)], bound: n('c', 0.5) }, n('d', 0.7), 2, 0.1);
    expect(pool).toEqual({ entries: [n('b', 0.9), n('d', 0.7)], bound: n('c', 0.5) });
  });

  it('a candidate that ranks after the bound is ignored', () => {
    const start = { entries: [n('b', 0.9)], bound: n('c', 0.5) };
    expect(offerToPool(start, n('d', 0.4), 3, 0.1)).toBe(start);
  });

  it('a candidate below the threshold never enters, even a complete pool with room', () => {
    const start = { entries: [n('b', 0.9)], bound: null };
    expect(offerToPool(start, n('d', 0.05), 5, 0.1)).toBe(start);
    expect(offerToPool(start, n('d', NaN), 5, -1)).toBe(start);
  });

  it('a candidate exactly at the threshold enters a complete pool', () => {
    expect(ids(offerToPool({ entries: [n('b', 0.9)], bound: null }, n('d', 0.1), 5, 0.1))).toEqual(['b', 'd']);
  });

  it('breaks ties against the bound by student id', () => {
    const start = { entries: [n('b', 0.9)], bound: n('m', 0.5) };
    expect(ids(offerToPool(start, n('a', 0.5), 3, 0.1))).toEqual(['b', 'a']);
    expect(offerToPool(start, n('z', 0.5), 3, 0.1)).toBe(start);
  });

  it('removing entries keeps the bound, and a bounded pool shorter than K needs a refill', () => {
    const pool = removeFromPool({ entries: [n('b', 0.9), n('c', 0.8), n('d', 0.7)], bound: n('d', 0.7) }, new Set(['c']));
    expect(pool).toEqual({ entries: [n('b', 0.9), n('d', 0.7)], bound: n('d', 0.7) });
    expect(poolYieldsTopK(pool, 2)).toBe(true);
    expect(poolYieldsTopK(pool, 3)).toBe(false);
    expect(poolYieldsTopK({ entries: [n('b', 0.9)], bound: null }, 3)).toBe(true);
  });
});

describe('the pool rules as an owner applies them (applyRepairs, exact mode)', () => {
  it('keeps the public top-K exact through a random stream of moves and deletions (model check)', () => {
    const random = seededRandom(11);
    const K = 3;
    const capacity = 5;
    const threshold = 0.2;
    const students = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    // A symmetric similarity table stands in for the vectors; a move redraws one student's row.
    const sim = new Map<string, number>();
    const key = (x: string, y: string) => (x < y ? `${x}|${y}` : `${y}|${x}`);
    const draw = (x: string) => students.forEach((y) => y !== x && sim.set(key(x, y), Math.round(random() * 100) / 100));
    students.forEach(draw);
    const alive = new Set(students);
    // The tests' own ranking (test/support/oracle.ts) plays the database's exact search and judges.
    const exactTop = (x: string, k: number) => topOf([...alive].filter((y) => y !== x).map((y) => n(y, sim.get(key(x, y))!)), k, threshold);
    const exactSearch = (x: string) => exactTop(x, capacity);
    const pools = new Map(students.map((x) => [x, poolFromSearch(exactSearch(x), capacity, threshold)]));

    for (let step = 0; step < 400; step++) {
      const a = students[Math.floor(random() * students.length)];
      const leaving = random() < 0.15 && alive.has(a);
      if (leaving) alive.delete(a);
      else {
        alive.add(a);
        draw(a);
      }
      const others = new Map([...pools].filter(([x]) => x !== a));
      const message: RepairMessage = { partition: 0, subject: a, subjectVersion: step, kind: leaving ? 'left' : 'moved', candidates: [], seeds: [], eventId: `e${step}`, eventTimestamp: 0 };
      const current = { versionOf: (id: string) => (alive.has(id) ? step : undefined), similarity: (x: string, y: string) => sim.get(key(x, y))! };
      const offers = poolsSubjectsMayEnter(others, [a], (id) => alive.has(id), (x, y) => sim.get(key(x, y))!, threshold);
      for (const [x, outcome] of applyRepairs(others, [message], current, { k: K, capacity, threshold }, offers)) {
        pools.set(x, outcome.needsRefill ? poolFromSearch(exactSearch(x), capacity, threshold) : outcome.pool);
      }
      if (leaving) pools.delete(a);
      else pools.set(a, poolFromSearch(exactSearch(a), capacity, threshold));

      for (const x of alive) {
        expect(publicNeighbors(pools.get(x)!, K)).toEqual(exactTop(x, K));
      }
    }
  });
});

describe('listChange', () => {
  it('writes only new or re-scored entries and drops only those that left', () => {
    const previous = [n('a', 0.9), n('b', 0.8), n('c', 0.7)];
    const next = [n('a', 0.9), n('d', 0.85), n('b', 0.75)];
    expect(listChange(previous, next)).toEqual({ upserts: [n('d', 0.85), n('b', 0.75)], removals: ['c'] });
  });

  it('finds nothing to do for an unchanged list', () => {
    expect(listChange([n('a', 0.5)], [n('a', 0.5)])).toEqual({ upserts: [], removals: [] });
  });
});

