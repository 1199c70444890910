import { Neighbor } from '../../src/similarity/graph/neighbor';
import { listChange, NeighborPool, offerToPool, poolChange, poolFromSearch, poolYieldsTopK, publicNeighbors, removeFromPool } from '../../src/similarity/graph/neighbor-pool';
import { refineFreshPools, repairPools } from '../../src/similarity/graph/repair-pools';
import { topOf } from '../support/oracle';
import { seededRandom } from '../../workload/synthetic-vectors';

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

describe('repairPools', () => {
  const settings = { k: 2, capacity: 3, threshold: 0.1 };

  it('re-scores a moved neighbour in place when it still ranks before the bound', () => {
    const pools = new Map([['x', { entries: [n('a', 0.9), n('b', 0.8), n('c', 0.7)], bound: n('c', 0.7) }]]);
    const result = repairPools(pools, new Set(['a']), [{ studentId: 'x', candidate: n('a', 0.75) }], settings).get('x')!;
    expect(result.pool.entries).toEqual([n('b', 0.8), n('a', 0.75), n('c', 0.7)]);
    expect(result).toMatchObject({ needsRefill: false });
  });

  it('drops a moved neighbour that fell past the bound, and asks for a refill when the pool is too short', () => {
    const pools = new Map([['x', { entries: [n('a', 0.9), n('b', 0.8)], bound: n('b', 0.8) }]]);
    const result = repairPools(pools, new Set(['a']), [{ studentId: 'x', candidate: n('a', 0.2) }], settings).get('x')!;
    expect(result.pool.entries).toEqual([n('b', 0.8)]);
    expect(result.needsRefill).toBe(true);
  });

  it('refills nothing for a complete pool that lost a deleted student', () => {
    const pools = new Map([['x', { entries: [n('a', 0.9), n('b', 0.8)], bound: null }]]);
    const result = repairPools(pools, new Set(['a']), [], settings).get('x')!;
    expect(result).toMatchObject({ pool: { entries: [n('b', 0.8)], bound: null }, needsRefill: false });
  });

  it('never repairs the pools of changed students (they are searched afresh)', () => {
    const pools = new Map([['a', { entries: [n('b', 0.9)], bound: null }]]);
    expect(repairPools(pools, new Set(['a']), [{ studentId: 'a', candidate: n('c', 0.95) }], settings).size).toBe(0);
  });

  it('gives the same pools whatever order the offers come in', () => {
    const pools = new Map([['x', { entries: [n('p', 0.5)], bound: n('p', 0.5) }]]);
    const offers = [n('a', 0.6), n('b', 0.7), n('c', 0.8), n('d', 0.9)].map((candidate) => ({ studentId: 'x', candidate }));
    const forward = repairPools(pools, new Set(['a', 'b', 'c', 'd']), offers, settings).get('x')!.pool;
    const backward = repairPools(pools, new Set(['a', 'b', 'c', 'd']), [...offers].reverse(), settings).get('x')!.pool;
    expect(backward).toEqual(forward);
    expect(ids(forward)).toEqual(['d', 'c', 'b']);
  });

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
      const offers = leaving ? [] : [...others.keys()].map((x) => ({ studentId: x, candidate: n(a, sim.get(key(x, a))!) }));
      for (const [x, outcome] of repairPools(others, new Set([a]), offers, { k: K, capacity, threshold })) {
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

describe('refineFreshPools', () => {
  const settings = { k: 2, capacity: 3, threshold: 0.1 };

  it("puts a student the search missed into a moved student's pool when an offer scored the pair", () => {
    const fresh = new Map([['a', { entries: [n('b', 0.9), n('c', 0.5), n('d', 0.4)], bound: n('d', 0.4) }]]);
    const refined = refineFreshPools(fresh, [{ studentId: 'x', candidate: n('a', 0.8) }], new Set(), settings).get('a')!;
    expect(refined).toEqual({ entries: [n('b', 0.9), n('x', 0.8), n('c', 0.5)], bound: n('d', 0.4) });
  });

  it('leaves a pool alone when the scored student ranks after its bound, or is already in it', () => {
    const start = { entries: [n('b', 0.9), n('c', 0.5)], bound: n('c', 0.5) };
    const offers = [{ studentId: 'x', candidate: n('a', 0.3) }, { studentId: 'b', candidate: n('a', 0.9) }];
    expect(refineFreshPools(new Map([['a', start]]), offers, new Set(), settings).get('a')).toEqual(start);
  });

  it('never adds a removed student, nor a student to its own pool, nor touches pools that were not searched', () => {
    const start = { entries: [n('b', 0.9)], bound: null };
    const offers = [{ studentId: 'gone', candidate: n('a', 0.8) }, { studentId: 'a', candidate: n('a', 1) }, { studentId: 'a', candidate: n('y', 0.7) }];
    const refined = refineFreshPools(new Map([['a', start]]), offers, new Set(['gone']), settings);
    expect(refined.get('a')).toEqual(start);
    expect(refined.has('y')).toBe(false);
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

describe('poolChange', () => {
  const before: NeighborPool = { entries: [n('a', 0.9), n('b', 0.8), n('c', 0.7)], bound: n('d', 0.6) };

  it('writes the entries that joined or were re-scored, drops those that left, and notes a moved bound', () => {
    const after: NeighborPool = { entries: [n('a', 0.9), n('b', 0.75), n('e', 0.72)], bound: n('c', 0.7) };
    expect(poolChange(before, after)).toEqual({ replaced: false, upserts: [n('b', 0.75), n('e', 0.72)], removals: ['c'], boundChanged: true });
  });

  it('leaves an unchanged bound alone, and finds nothing to do for an unchanged pool', () => {
    expect(poolChange(before, { entries: [n('a', 0.9), n('b', 0.8)], bound: n('d', 0.6) })).toEqual({ replaced: false, upserts: [], removals: ['c'], boundChanged: false });
    expect(poolChange(before, before)).toEqual({ replaced: false, upserts: [], removals: [], boundChanged: false });
  });

  it('replaces everything when the stored state is unknown', () => {
    expect(poolChange(null, before)).toEqual({ replaced: true, upserts: before.entries, removals: [], boundChanged: true });
  });
});
