import { holderIndexHolds, PartitionHolderIndex, StudentNumbers } from '../../src/similarity/graph/partition-holder-index';

/** The oracle: who holds whom, computed afresh from the pools as they are. */
function holdersFromScratch(pools: Map<string, string[]>, member: string): string[] {
  return [...pools].filter(([, members]) => members.includes(member)).map(([owner]) => owner).sort();
}

describe('PartitionHolderIndex: who in the partition holds whom, kept by the owner writes', () => {
  it('is built from the pools as read', () => {
    const index = new PartitionHolderIndex([
      { owner: 'a', members: ['x', 'y'] },
      { owner: 'b', members: ['x'] },
    ]);
    expect([...index.holdersOf('x')].sort()).toEqual(['a', 'b']);
    expect(index.holdersOf('y')).toEqual(['a']);
    expect(index.holdersOf('nobody')).toEqual([]);
    expect(index.size).toBe(3);
  });

  function randomWrites(index: PartitionHolderIndex, shape: { students: number; owners: number; steps: number; largestPool: number; seed: number }) {
    let seed = shape.seed;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const students = Array.from({ length: shape.students }, (_, i) => `s-${i}`);
    const pools = new Map<string, string[]>();
    for (let step = 0; step < shape.steps; step++) {
      const owner = students[random(shape.owners)];
      const before = pools.get(owner) ?? [];
      const after = random(6) === 0 ? [] : [...new Set(Array.from({ length: random(shape.largestPool) }, () => students[random(students.length)]))];
      if (after.length === 0) pools.delete(owner);
      else pools.set(owner, after);
      index.replace(owner, before, after);
    }
    return { students, pools };
  }

  it('follows a random sequence of pool writes and deletes exactly (against a from-scratch oracle)', () => {
    const index = new PartitionHolderIndex();
    const { students, pools } = randomWrites(index, { students: 30, owners: 10, steps: 2000, largestPool: 8, seed: 7 });
    for (const member of students) expect([...index.holdersOf(member)].sort()).toEqual(holdersFromScratch(pools, member));
    expect(index.size).toBe([...pools.values()].reduce((sum, members) => sum + members.length, 0));
  });

  it('stays exact while its storage grows and is compacted, beside another index numbering the same students', () => {
    const numbers = new StudentNumbers();
    const first = new PartitionHolderIndex([], numbers);
    const second = new PartitionHolderIndex([{ owner: 's-1', members: ['s-2', 's-3'] }], numbers);
    const { students, pools } = randomWrites(first, { students: 3000, owners: 1500, steps: 30000, largestPool: 25, seed: 11 });
    for (const member of students) expect([...first.holdersOf(member)].sort()).toEqual(holdersFromScratch(pools, member));
    expect(first.size).toBe([...pools.values()].reduce((sum, members) => sum + members.length, 0));
    expect(second.holdersOf('s-2')).toEqual(['s-1']);
    expect(second.holdersOf('s-4')).toEqual([]);
  });

  it('keeps an owner that holds a member once, however often it is written', () => {
    const index = new PartitionHolderIndex([{ owner: 'a', members: ['x'] }]);
    index.replace('a', [], ['x']);
    index.replace('a', ['x'], []);
    expect(index.holdersOf('x')).toEqual([]);
  });
});

describe('holderIndexHolds: when a kept index still names every holder', () => {
  const kept = { epoch: 4, poolsRevision: 2, partitionCount: 6 };

  it('holds in the same take, and after the keeper took the partition again (the next epoch: no one else wrote)', () => {
    expect(holderIndexHolds(kept, { ...kept })).toBe(true);
    expect(holderIndexHolds(kept, { ...kept, epoch: 5 })).toBe(true);
  });

  it('does not hold once another take came between, after a rebuild, or at another partition count', () => {
    expect(holderIndexHolds(kept, { ...kept, epoch: 6 })).toBe(false);
    expect(holderIndexHolds(kept, { ...kept, epoch: 3 })).toBe(false);
    expect(holderIndexHolds(kept, { ...kept, poolsRevision: 3 })).toBe(false);
    expect(holderIndexHolds(kept, { ...kept, partitionCount: 12 })).toBe(false);
  });
});
