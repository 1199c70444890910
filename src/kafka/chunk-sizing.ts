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

/**
 * The chunk size of each topic, learnt from its own chunks. Topics differ in what a record
 * weighs: an event is one student, a repair record every message a sender's batch had for that
 * partition. One size for both let a repair chunk take the size the light event chunks earned
 * (W1: graph transactions of 7.7 s against a budget of 3 s, and the worker's peak memory).
 */
export class ChunkSizes {
  private readonly sizes = new Map<string, number>();

  constructor(
    private readonly budgetMs: number,
    private readonly max: number,
    private readonly initial = Math.min(max, 50),
  ) {}

  of(topic: string): number {
    return this.sizes.get(topic) ?? this.initial;
  }

  /** A chunk of `taken` records, asked for as `asked`, took `elapsedMs`. A short, fast chunk (the partition had no more) says nothing against the size. */
  observe(topic: string, asked: number, taken: number, elapsedMs: number): void {
    const next = nextChunkSize(taken, elapsedMs, this.budgetMs, this.max);
    this.sizes.set(topic, taken < asked && next >= taken ? Math.max(next, asked) : next);
  }
}
