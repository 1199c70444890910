import { StoredPairSimilarities, toUnitMatrix } from '../../src/verification/exact-neighbors';
import { brokenRules } from '../../src/verification/stored-list-rules';
import { describeVerdict, GraphMeasures, judgeGraph, judgementFor } from '../../src/verification/verdict';

const n = (studentId: string, similarity: number) => ({ studentId, similarity });
const rules = { k: 3, threshold: 0.2 };

describe('brokenRules: what every stored list keeps, exact or index mode', () => {
  it('finds nothing broken in a short list of true similarities above the threshold', () => {
    expect(brokenRules('a', [n('b', 0.9), n('c', 0.5)], [0.9, 0.50001], rules)).toEqual([]);
  });

  it('does not ask for the exact neighbours: a list that misses some keeps the rules', () => {
    expect(brokenRules('a', [n('x', 0.3)], [0.3], rules)).toEqual([]);
  });

  it('reports a list longer than K', () => {
    expect(brokenRules('a', [n('b', 0.9), n('c', 0.8), n('d', 0.7), n('e', 0.6)], [0.9, 0.8, 0.7, 0.6], rules)).toEqual(['4 neighbours stored, more than K=3']);
  });

  it('reports a neighbour below the threshold, and a NaN similarity', () => {
    expect(brokenRules('a', [n('b', 0.15)], [0.15], rules)).toEqual([expect.stringMatching(/^b stored at 0.15000, below the threshold 0.2$/)]);
    expect(brokenRules('a', [n('b', NaN)], [undefined], rules)).toEqual([expect.stringMatching(/below the threshold/)]);
  });

  it("reports a stored similarity that is not the pair's, beyond the tolerance", () => {
    expect(brokenRules('a', [n('b', 0.9)], [0.6], rules)).toEqual(["b stored at 0.90000, the pair's similarity is 0.60000"]);
    expect(brokenRules('a', [n('b', 0.9)], [0.9 + 5e-5], rules)).toEqual([]);
  });

  it('reports a student listing itself', () => {
    expect(brokenRules('a', [n('a', 1)], [1], rules)).toEqual(['lists itself']);
  });

  it('leaves a neighbour without an embedding to the orphan count', () => {
    expect(brokenRules('a', [n('gone', 0.5)], [undefined], rules)).toEqual([]);
  });
});

describe('StoredPairSimilarities', () => {
  it("gives each stored pair its cosine similarity from the candidates offered, page by page, and nothing for a neighbour never offered", () => {
    const checked = toUnitMatrix(['a', 'b'], [[1, 0], [0, 2]], 2);
    const pairs = new StoredPairSimilarities(checked, [[n('c', 0.9), n('gone', 0.5)], [n('c', 0.1), n('a', 0)]]);
    pairs.offer(toUnitMatrix(['a'], [[3, 0]], 2));
    pairs.offer(toUnitMatrix(['c'], [[1, 1]], 2));
    expect(pairs.result(0)).toEqual([expect.closeTo(Math.SQRT1_2, 6), undefined]);
    expect(pairs.result(1)).toEqual([expect.closeTo(Math.SQRT1_2, 6), 0]);
  });
});

describe('judgeGraph', () => {
  const healthy: GraphMeasures = { recall: 0.993, brokenLists: 0, differingLists: 40, orphanRows: 0 };

  it('judges equality for a graph built by exact search and recall for one built through the index', () => {
    expect(judgementFor('exact')).toBe('equality');
    expect(judgementFor('index')).toBe('recall');
  });

  it('passes an index-mode graph whose recall reaches the floor, though some lists differ from the exact ones', () => {
    const verdict = judgeGraph(healthy, { judge: 'recall', minRecall: 0.98 });
    expect(verdict).toEqual({ passed: true, judged: 'recall', recall: 0.993, minRecall: 0.98, failures: [] });
    expect(describeVerdict(verdict, 15)).toBe('PASS: judged recall@15 0.99300 against the floor 0.98 and the hard invariants');
  });

  it('fails a graph whose recall is under the floor, and says so', () => {
    const verdict = judgeGraph({ ...healthy, recall: 0.87 }, { judge: 'recall', minRecall: 0.98 });
    expect(verdict.passed).toBe(false);
    expect(verdict.failures).toEqual(['recall 0.87000 is under the floor 0.98']);
    expect(describeVerdict(verdict, 15)).toMatch(/^FAIL: judged recall@15 0.87000 against the floor 0.98 .*: recall 0.87000 is under the floor 0.98$/);
  });

  it('fails a graph with a broken list or an orphan row whatever it is judged by', () => {
    for (const judge of ['recall', 'equality'] as const) {
      expect(judgeGraph({ ...healthy, differingLists: 1, brokenLists: 1 }, { judge, minRecall: 0.98 }).failures).toContain('1 lists break a hard invariant');
      expect(judgeGraph({ ...healthy, differingLists: 0, orphanRows: 2 }, { judge, minRecall: 0.98 }).failures).toEqual(['2 rows at students without an embedding']);
    }
  });

  it('judged by equality, fails any list that differs from the exact one, whatever the recall', () => {
    const verdict = judgeGraph({ ...healthy, recall: 0.9999, differingLists: 1 }, { judge: 'equality', minRecall: 0.98 });
    expect(verdict).toEqual({ passed: false, judged: 'equality', recall: 0.9999, minRecall: undefined, failures: ['1 lists differ from the exact ones'] });
    expect(describeVerdict(verdict, 8)).toMatch(/^FAIL: judged row-for-row equality with the exact graph \(recall@8 0.99990\)/);
    expect(judgeGraph({ ...healthy, recall: 0.5, differingLists: 0 }, { judge: 'equality', minRecall: 0.98 }).passed).toBe(true);
  });

  it('counts a NaN recall as under the floor', () => {
    expect(judgeGraph({ ...healthy, recall: NaN }, { judge: 'recall', minRecall: 0 }).passed).toBe(false);
  });
});
