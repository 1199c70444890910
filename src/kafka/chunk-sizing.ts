/**
 * How many records the next chunk should hold, so that a chunk takes about half of `budgetMs`. A
 * chunk is applied as one batch (its search ahead, its turn and its own graph transaction): a chunk that took `elapsedMs` for `current` records is scaled by the
 * ratio, growing at most twofold at a time (a lucky fast chunk must not make the next one huge)
 * and never beyond `max` or below 1.
 */
export function nextChunkSize(current: number, elapsedMs: number, budgetMs: number, max: number): number {
  const target = budgetMs / 2;
  const scaled = Math.floor((current * target) / Math.max(elapsedMs, 1));
  return Math.max(1, Math.min(max, current * 2, scaled));
}
