import { clusteredVectors, seededRandom } from '../../workload/synthetic-vectors';
import { Neighbor } from '../../src/similarity/graph/neighbor';
import { RunningTopK, toUnitMatrix, VectorMatrix } from '../../src/verification/exact-neighbors';
import { fromVectorSend } from '../../src/verification/verification.repository';
import { cosineSimilarity, topOf } from '../support/oracle';

/** Every other student scored and sorted by the tests' own oracle: the plainest exact top-k. */
function sortedTopK(ids: string[], vectors: number[][], row: number, k: number, threshold: number): Neighbor[] {
  const scored = ids.map((studentId, other) => ({ studentId, similarity: cosineSimilarity(vectors[row], vectors[other]) }));
  return topOf(scored.filter((n, other) => other !== row && Number.isFinite(n.similarity)), k, threshold);
}

function rows(matrix: VectorMatrix, from: number, to: number): VectorMatrix {
  return { ids: matrix.ids.slice(from, to), dimension: matrix.dimension, data: matrix.data.subarray(from * matrix.dimension, to * matrix.dimension) };
}

describe('RunningTopK', () => {
  const dimension = 37; // not a multiple of 4: the tail of the dot product counts too
  const vectors = clusteredVectors(seededRandom(3), 300, dimension, 5, 1);
  const ids = vectors.map((_, i) => `s-${String(i).padStart(3, '0')}`);
  const all = toUnitMatrix(ids, vectors, dimension);

  it.each([1, 7, 64, 300])('finds the exact top-k of a chunk of checked students from candidates offered %i at a time', (pageSize) => {
    const checkedFrom = 40;
    const top = new RunningTopK(rows(all, checkedFrom, checkedFrom + 25), 10, 0.1);
    for (let start = 0; start < ids.length; start += pageSize) top.offer(rows(all, start, start + pageSize));
    for (let row = 0; row < 25; row++) {
      const expected = sortedTopK(ids, vectors, checkedFrom + row, 10, 0.1);
      const found = top.result(row);
      expect(found.map((n) => n.studentId)).toEqual(expected.map((n) => n.studentId));
      found.forEach((n, i) => expect(n.similarity).toBeCloseTo(expected[i].similarity, 5));
    }
  });

  it('ranks ties by student id, whatever order the candidates come in', () => {
    const tied = toUnitMatrix(['q', 'd', 'b', 'c', 'a'], [[1, 0], [1, 1], [1, 1], [1, -1], [1, 1]], 2);
    const top = new RunningTopK(rows(tied, 0, 1), 2, -1);
    top.offer(rows(tied, 3, 5));
    top.offer(rows(tied, 0, 3));
    expect(top.result(0).map((n) => n.studentId)).toEqual(['a', 'b']);
  });

  it('leaves out self, the students below the threshold, zero vectors and vectors of another dimension', () => {
    const matrix = toUnitMatrix(['a', 'b', 'c', 'z', 'w'], [[1, 0], [1, 0.1], [-1, 0], [0, 0], [1, 0, 0]], 2);
    const top = new RunningTopK(matrix, 5, 0);
    top.offer(matrix);
    expect(top.result(0).map((n) => n.studentId)).toEqual(['b']);
    expect(top.result(2)).toEqual([]);
    expect(top.result(3)).toEqual([]);
    expect(top.result(4)).toEqual([]);
  });
});

describe('fromVectorSend', () => {
  it("decodes pgvector's binary form", () => {
    const bytes = Buffer.alloc(4 + 3 * 4);
    bytes.writeUInt16BE(3, 0);
    [0.5, -2, 1e-3].forEach((x, i) => bytes.writeFloatBE(x, 4 + 4 * i));
    expect(Array.from(fromVectorSend(bytes))).toEqual([0.5, -2, Math.fround(1e-3)]);
  });
});
