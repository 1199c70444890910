import { RunningTopK, toUnitMatrix } from '../../src/verification/exact-neighbors';
import { compareWithExact } from '../../src/verification/list-comparison';

const n = (studentId: string, similarity: number) => ({ studentId, similarity });

describe('RunningTopK over a whole matrix', () => {
  const matrix = toUnitMatrix(['a', 'b', 'c', 'd', 'z'], [[1, 0], [2, 0.2], [0, 1], [-1, 0], [0, 0]], 2);
  const exactTopK = (_: unknown, row: number, k: number, threshold: number) => {
    const top = new RunningTopK({ ids: [matrix.ids[row]], dimension: 2, data: matrix.data.subarray(row * 2, row * 2 + 2) }, k, threshold);
    top.offer(matrix);
    return top.result(0);
  };

  it('ranks every other student by cosine similarity, above the threshold, self and zero vectors excluded', () => {
    const top = exactTopK(matrix, 0, 5, -1);
    expect(top.map((x) => x.studentId)).toEqual(['b', 'c', 'd']);
    expect(top[0].similarity).toBeCloseTo(2 / Math.sqrt(4.04), 6);
    expect(top[2].similarity).toBeCloseTo(-1, 6);
    expect(exactTopK(matrix, 0, 5, 0.5).map((x) => x.studentId)).toEqual(['b']);
    expect(exactTopK(matrix, 4, 5, -1)).toEqual([]);
  });

  it('keeps only k', () => {
    expect(exactTopK(matrix, 2, 1, -1).map((x) => x.studentId)).toEqual(['b']);
  });
});

describe('compareWithExact', () => {
  it('finds nothing wrong with the exact list', () => {
    expect(compareWithExact('a', [n('b', 0.9), n('c', 0.5)], [n('b', 0.9), n('c', 0.5)])).toEqual({ hits: 2, problems: [] });
  });

  it('accepts an equally similar stand-in at the cut-off', () => {
    expect(compareWithExact('a', [n('b', 0.9), n('d', 0.5)], [n('b', 0.9), n('c', 0.5)]).problems).toEqual([]);
  });

  it('reports a missing neighbour, a stranger, a wrong similarity, self, and a short list', () => {
    expect(compareWithExact('a', [n('b', 0.9), n('x', 0.3)], [n('b', 0.9), n('c', 0.5)])).toEqual({ hits: 1, problems: [expect.stringContaining('x (0.30000) is not among')] });
    expect(compareWithExact('a', [n('b', 0.8)], [n('b', 0.9)]).problems[0]).toMatch(/stored at 0.80000, exact 0.90000/);
    expect(compareWithExact('a', [n('a', 1)], [n('b', 0.9)]).problems).toContain('lists itself');
    expect(compareWithExact('a', [n('b', 0.9)], [n('b', 0.9), n('c', 0.5)]).problems).toEqual(['1 neighbours stored, 2 expected']);
  });
});
