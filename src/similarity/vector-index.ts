/** IVFFlat list count from pgvector's guidance: rows / 1000 up to 1M rows, sqrt(rows) above. */
export function ivfflatLists(rows: number): number {
  if (rows <= 1_000_000) return Math.max(1, Math.round(rows / 1000));
  return Math.round(Math.sqrt(rows));
}

/** IVFFlat probes default: sqrt(lists), pgvector's suggested starting point for recall. */
export function defaultIvfflatProbes(lists: number): number {
  return Math.max(1, Math.round(Math.sqrt(lists)));
}
