/** Worker-thread side of exactNeighbors: brute force for a slice of the sampled rows. */
import { parentPort, workerData } from 'worker_threads';
import { Neighbor } from '../src/similarity/graph/neighbor';
import { RunningTopK, VectorMatrix } from '../src/verification/exact-neighbors';

interface Job {
  ids: string[];
  dimension: number;
  buffer: SharedArrayBuffer;
  rows: number[];
  k: number;
  threshold: number;
}

/**
 * The exact top-k of row `row` by cosine similarity (brute force over the whole matrix), self
 * excluded, at or above the threshold, ranked by compareNeighbors. Zero vectors never qualify.
 */
function exactTopK(matrix: VectorMatrix, row: number, k: number, threshold: number): Neighbor[] {
  const { dimension } = matrix;
  const single = { ids: [matrix.ids[row]], dimension, data: matrix.data.subarray(row * dimension, (row + 1) * dimension) };
  const top = new RunningTopK(single, k, threshold);
  top.offer(matrix);
  return top.result(0);
}

const job = workerData as Job;
const matrix: VectorMatrix = { ids: job.ids, dimension: job.dimension, data: new Float32Array(job.buffer) };
parentPort!.postMessage(job.rows.map((row) => exactTopK(matrix, row, job.k, job.threshold)));
