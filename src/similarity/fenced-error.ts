/**
 * A graph write transaction found that its worker no longer owns the partition (another worker
 * took it since). Nothing was written; the batch must be left to the new owner, so it is neither
 * retried here nor dead-lettered, and its offsets are not committed.
 */
export class FencedError extends Error {
  constructor(
    readonly partition: number,
    reason: string,
  ) {
    super(`fenced on partition ${partition}: ${reason}`);
    this.name = 'FencedError';
  }
}
