import { EntityManager } from 'typeorm';
import { nearestSql, NeighborSearch } from '../../src/similarity/embedding.repository';

/** The plan of the service's own nearest-neighbour query for one student, so a test can check which index it uses. */
export async function explainNearest(db: EntityManager, studentId: string, search: NeighborSearch): Promise<string> {
  const rows: { 'QUERY PLAN': string }[] = await db.query(`EXPLAIN ${nearestSql(search.mode)}`, [[studentId], search.limit, search.threshold]);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}
