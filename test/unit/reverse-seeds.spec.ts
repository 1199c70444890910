import { DENSE_WALK_SPREAD, isDenseWalk, reverseSeedCount } from '../../src/similarity/graph/reverse-seeds';

/** A walk of `count` students whose `capacity`-th is at `poolLast` and whose last is at `reach`. */
function walk(count: number, poolLast: number, reach: number) {
  const neighbors = Array.from({ length: count }, (_, i) => ({ studentId: `s${i}`, similarity: i < 3 ? 0.99 : poolLast }));
  return { neighbors, reach };
}

describe('how many seeds a moved student gets (reverseSeedCount)', () => {
  const seeds = { usual: 5, dense: 20 };

  it('a walk whose reach is barely farther than its pool\'s last is dense and gets the dense count', () => {
    // pool's last at distance 0.10, reach at 0.12: 1.2 times as far
    expect(reverseSeedCount(walk(20, 0.9, 0.88), 20, seeds)).toBe(20);
  });

  it('a walk that reaches much farther than its pool gets the usual count', () => {
    // pool's last at distance 0.10, reach at 0.30
    expect(reverseSeedCount(walk(20, 0.9, 0.7), 20, seeds)).toBe(5);
  });

  it('the spread is measured in distance: just inside it is dense, just outside it is not', () => {
    const poolLast = 0.8;
    const atSpread = 1 - DENSE_WALK_SPREAD * (1 - poolLast);
    expect(isDenseWalk(walk(20, poolLast, atSpread + 1e-9), 20)).toBe(true);
    expect(isDenseWalk(walk(20, poolLast, atSpread - 1e-9), 20)).toBe(false);
  });

  it('a walk shorter than a pool (it ran out above the threshold) is never dense', () => {
    expect(isDenseWalk(walk(19, 0.9, 0.9), 20)).toBe(false);
  });

  it('reads the pool\'s last at the pool\'s capacity, not the walk\'s end', () => {
    const long = walk(150, 0.9, 0.88);
    long.neighbors[149] = { studentId: 'far', similarity: 0.88 };
    expect(isDenseWalk(long, 20)).toBe(true);
    long.neighbors[19] = { studentId: 'near', similarity: 0.99 };
    expect(isDenseWalk(long, 20)).toBe(false);
  });
});
