import { randomUUID } from 'node:crypto';
import { graphViolations } from '../support/graph-check';
import { graphServiceModule } from '../support/graph-service';
import { TestEnvironment } from '../support/harness';

const K = 2;
const THRESHOLD = 0.1;
const at = (degrees: number) => [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180), 0];

/**
 * A dense cluster (every degree from -10 to 10) and one student X 40 degrees away, whose pool
 * holds the cluster's edge. A student arriving at 9.5 degrees belongs in X's pool (30.5 degrees
 * from X, nearer than X's third, the cluster point at 8), yet X is not among its own nearest:
 * the forward search never offers it to X. Its seeds (its nearest, which X's pool holds) do,
 * whether it is a newcomer or jumped there from the far side (200 degrees, where no one is).
 */
describe('index mode: a student arriving in a dense region is offered to the pools that hold its nearest', () => {
  let env: TestEnvironment;

  afterEach(() => env.tearDown());

  /** `seeds`: one count for every walk, or the usual and the dense walk's (graph/reverse-seeds.ts). */
  async function graphAfterArrival(seeds: number | { usual: number; dense: number }, arrival: 'newcomer' | 'jump', reverseCandidates = 1): Promise<string[]> {
    const { usual, dense } = typeof seeds === 'number' ? { usual: seeds, dense: seeds } : seeds;
    env = new TestEnvironment({
      CANDIDATE_SEARCH: 'index',
      MAX_NEIGHBORS: String(K),
      NEIGHBOR_RESERVE: '1',
      REVERSE_CANDIDATES: String(reverseCandidates),
      REVERSE_SEEDS: String(usual),
      DENSE_REVERSE_SEEDS: String(dense),
      SIMILARITY_THRESHOLD: String(THRESHOLD),
      EMBEDDING_DIM: '3',
    });
    await env.setUp(1);
    const { module, applyAndSettle } = await graphServiceModule(env);
    try {
      const vectors = new Map<string, number[]>([['x', at(40)]]);
      for (let degree = -10; degree <= 10; degree++) vectors.set(`d${degree}`, at(degree));
      if (arrival === 'jump') vectors.set('arrival', at(200));
      const event = (studentId: string, version = 1) => ({ studentId, eventId: randomUUID(), version, op: 'upsert' as const });
      await env.writeEmbeddings([...vectors].map(([studentId, vector]) => ({ studentId, vector, version: 1 })));
      await applyAndSettle([...vectors.keys()].map((id) => event(id)));
      expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);

      const version = arrival === 'jump' ? 2 : 1;
      vectors.set('arrival', at(9.5));
      await env.writeEmbeddings([{ studentId: 'arrival', vector: vectors.get('arrival')!, version }]);
      await applyAndSettle([event('arrival', version)]);
      return await graphViolations(env, vectors, K, THRESHOLD);
    } finally {
      await module.close();
    }
  }

  it('without seeds, X misses the newcomer (the limit the seeds address)', async () => {
    const violations = await graphAfterArrival(0, 'newcomer');
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.filter((v) => !v.startsWith('x: '))).toEqual([]);
  });

  it('without seeds, a search reaching past the cluster (X ranks 22nd) offers the newcomer to X', async () => {
    expect(await graphAfterArrival(0, 'newcomer', 25)).toEqual([]);
  });

  it('with seeds, every list is exact after a newcomer', async () => {
    expect(await graphAfterArrival(2, 'newcomer')).toEqual([]);
  });

  it('with seeds, every list is exact after a student jumped into the cluster', async () => {
    expect(await graphAfterArrival(2, 'jump')).toEqual([]);
  });

  // The newcomer's walk of its 3 nearest ends at 1.5 degrees, as far as its pool's last: dense.
  // A walk of 10 ends at 8.5 degrees, 32 times as far: not dense (X still ranks 22nd, beyond it).
  it('seeds only where the walk is dense: a dense walk gets them and X is repaired', async () => {
    expect(await graphAfterArrival({ usual: 0, dense: 2 }, 'newcomer', 1)).toEqual([]);
  });

  it('seeds only where the walk is dense: a spread walk gets none and X misses the newcomer', async () => {
    const violations = await graphAfterArrival({ usual: 0, dense: 2 }, 'newcomer', 10);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations.filter((v) => !v.startsWith('x: '))).toEqual([]);
  });
});
