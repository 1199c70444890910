/**
 * How `verify` judges a graph. The hard rules (stored-list-rules.ts, and no rows at students
 * without an embedding) are judged always. Beyond them, a graph built by exact search must equal
 * the exact graph row for row; a graph built through the vector index is approximate by design,
 * so it is judged by its recall against a floor instead.
 */
export type Judgement = 'equality' | 'recall';

/** Index mode measures 0.99-0.995; a graph without reverse repair, 0.85-0.91. */
export const DEFAULT_MIN_RECALL = 0.98;

/** What verify measured that the verdict depends on. */
export interface GraphMeasures {
  /** Share of exact neighbours present in the stored lists, over the checked students. */
  recall: number;
  /** Checked lists that break a hard rule. */
  brokenLists: number;
  /** Checked lists that differ from the exact ones. */
  differingLists: number;
  /** Rows that start or end at a student without an embedding. */
  orphanRows: number;
}

export interface Verdict {
  passed: boolean;
  judged: Judgement;
  recall: number;
  /** The floor recall was judged against (recall judgement only). */
  minRecall?: number;
  /** Why the graph failed, one reason each; empty when it passed. */
  failures: string[];
}

/** The judgement a graph calls for by how it was built (CANDIDATE_SEARCH). */
export function judgementFor(candidateSearch: 'exact' | 'index'): Judgement {
  return candidateSearch === 'exact' ? 'equality' : 'recall';
}

export function judgeGraph(measures: GraphMeasures, criteria: { judge: Judgement; minRecall: number }): Verdict {
  const failures: string[] = [];
  if (measures.brokenLists > 0) failures.push(`${measures.brokenLists} lists break a hard invariant`);
  if (measures.orphanRows > 0) failures.push(`${measures.orphanRows} rows at students without an embedding`);
  if (criteria.judge === 'equality' && measures.differingLists > 0) failures.push(`${measures.differingLists} lists differ from the exact ones`);
  if (criteria.judge === 'recall' && !(measures.recall >= criteria.minRecall)) failures.push(`recall ${formatRecall(measures.recall)} is under the floor ${criteria.minRecall}`);
  return {
    passed: failures.length === 0,
    judged: criteria.judge,
    recall: measures.recall,
    minRecall: criteria.judge === 'recall' ? criteria.minRecall : undefined,
    failures,
  };
}

/** One line for people and logs: pass or fail, what was judged, the measured recall, and why it failed. */
export function describeVerdict(verdict: Verdict, k: number): string {
  const judged =
    verdict.judged === 'recall'
      ? `judged recall@${k} ${formatRecall(verdict.recall)} against the floor ${verdict.minRecall} and the hard invariants`
      : `judged row-for-row equality with the exact graph (recall@${k} ${formatRecall(verdict.recall)}) and the hard invariants`;
  return verdict.passed ? `PASS: ${judged}` : `FAIL: ${judged}: ${verdict.failures.join('; ')}`;
}

function formatRecall(recall: number): string {
  return recall.toFixed(5);
}
