import { TestingModule } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { EmbeddingEvent } from '../../src/similarity/dto/embedding-event';
import { SimilarityService } from '../../src/similarity/similarity.service';
import { graphViolations } from '../support/graph-check';
import { graphServiceModule } from '../support/graph-service';
import { TestEnvironment } from '../support/harness';
import { clusteredVectors, gaussian, normalize, seededRandom } from '../../workload/synthetic-vectors';

const K = 8;
const THRESHOLD = 0.1;
const STUDENTS = 200;
const DIMENSION = 16;

/**
 * The service's two steps driven by hand on a real database, so that another batch is written
 * between one batch's search and its write: the order that two partitions or two workers can
 * produce, but only in a narrow race window.
 */
describe('a batch whose search is older than the graph it writes into', () => {
  const random = seededRandom(808);
  const vectors = new Map<string, number[]>();
  const versions = new Map<string, number>();
  let env: TestEnvironment;
  let module: TestingModule;
  let service: SimilarityService;

  beforeAll(async () => {
    env = new TestEnvironment({ MAX_NEIGHBORS: String(K), NEIGHBOR_RESERVE: '4', SIMILARITY_THRESHOLD: String(THRESHOLD), EMBEDDING_DIM: String(DIMENSION), CANDIDATE_SEARCH: 'exact' });
    await env.setUp(1);
    ({ module, service } = await graphServiceModule(env));
    const ids = Array.from({ length: STUDENTS }, (_, i) => `s-${String(i).padStart(3, '0')}`);
    clusteredVectors(random, STUDENTS, DIMENSION, 6).forEach((v, i) => vectors.set(ids[i], v));
    await service.applyEvents(await write(ids));
    expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
  });

  afterAll(async () => {
    await module.close();
    await env.tearDown();
  });

  /** Writes the students' current vectors as their next version; returns their events. */
  async function write(ids: string[], withVersion = true): Promise<EmbeddingEvent[]> {
    for (const id of ids) versions.set(id, (versions.get(id) ?? 0) + 1);
    await env.writeEmbeddings(ids.map((id) => ({ studentId: id, vector: vectors.get(id)!, version: versions.get(id)! })));
    return ids.map((id) => ({ studentId: id, eventId: randomUUID(), version: withVersion ? versions.get(id)! : null, op: 'upsert' }));
  }

  const near = (v: number[]) => normalize(v.map((x) => x + 0.05 * gaussian(random)));
  const anywhere = () => normalize(Array.from({ length: DIMENSION }, () => gaussian(random)));

  it('catches up with the students another batch moved in between, in both directions', async () => {
    const searched = [...vectors.keys()].slice(0, 30);
    const movedMeanwhile = [...vectors.keys()].slice(30, 60);
    for (const id of searched) vectors.set(id, anywhere());
    const ahead = await service.searchAhead(await write(searched));
    // Each student of the other batch lands right next to one of the searched students.
    movedMeanwhile.forEach((id, i) => vectors.set(id, near(vectors.get(searched[i])!)));
    await service.applyEvents(await write(movedMeanwhile));
    await service.applySearched(searched.map((id) => ({ studentId: id, eventId: randomUUID(), version: versions.get(id)!, op: 'upsert' })), ahead);

    expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
  });

  it('catches up with students that left in between', async () => {
    const searched = [...vectors.keys()].slice(60, 80);
    for (const id of searched) vectors.set(id, anywhere());
    const ahead = await service.searchAhead(await write(searched));
    const leaving = [...vectors.keys()].slice(80, 100);
    await env.db.query('DELETE FROM student_embeddings WHERE student_id = ANY($1::text[])', [leaving]);
    for (const id of leaving) vectors.delete(id);
    await service.applyEvents(leaving.map((id) => ({ studentId: id, eventId: randomUUID(), version: null, op: 'delete' })));
    await service.applySearched(searched.map((id) => ({ studentId: id, eventId: randomUUID(), version: versions.get(id)!, op: 'upsert' })), ahead);

    expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
  });

  it('searches again a student whose own embedding changed after its search', async () => {
    const searched = [...vectors.keys()].slice(100, 120);
    for (const id of searched) vectors.set(id, anywhere());
    const ahead = await service.searchAhead(await write(searched, false));
    for (const id of searched) vectors.set(id, anywhere());
    const events = await write(searched, false);
    await service.applySearched(events, ahead);

    expect(await graphViolations(env, vectors, K, THRESHOLD)).toEqual([]);
  });
});
