/** Worker-thread side of exactNeighbors: brute force for a slice of the sampled rows. */
import { parentPort, workerData } from 'worker_threads';
import { exactTopK, VectorMatrix } from '../src/verification/exact-neighbors';

interface Job {
  ids: string[];
  dimension: number;
  buffer: SharedArrayBuffer;
  rows: number[];
  k: number;
  threshold: number;
}

const job = workerData as Job;
const matrix: VectorMatrix = { ids: job.ids, dimension: job.dimension, data: new Float32Array(job.buffer) };
parentPort!.postMessage(job.rows.map((row) => exactTopK(matrix, row, job.k, job.threshold)));
