import { Client } from 'pg';
import { defaultIvfflatProbes, ivfflatLists } from '../src/similarity/vector-index';
import { ceilingQueries, CeilingResult, measureCeiling } from './query-ceiling';
import { buildHnswIndex, buildIvfflatIndex, dropIndex, HNSW_INDEX, IndexBuild, IVFFLAT_INDEX } from './vector-indexes';

const CEILING_QUERIES = 200;
const HNSW_EF_SEARCH = [40, 100, 200];
// On a small table the planner may prefer a scan to the index; the ceiling measures the index.
const USE_THE_INDEX = 'SET enable_seqscan = off';

/**
 * Times both index builds at full size and, unless skipped, measures the raw query ceiling of
 * each setting against an exact scan. Leaves the HNSW index in place for the service.
 */
export async function runIndexPhase(db: Client, rows: number, skipCeiling: boolean): Promise<{ indexBuilds: IndexBuild[]; ceiling: CeilingResult[] | null }> {
  await dropIndex(db, IVFFLAT_INDEX);
  await dropIndex(db, HNSW_INDEX);
  const queries = await ceilingQueries(db, CEILING_QUERIES);
  const ceiling: CeilingResult[] = [];
  const measure = async (index: CeilingResult['index'], setting: string, session: string[], exact: Map<string, string[]> | null) => {
    const { result, found } = await measureCeiling(index, setting, session, queries, exact);
    ceiling.push(result);
    console.log(`  ${index.padEnd(10)} ${setting.padEnd(22)} ${result.qpsOneConnection.toFixed(0).padStart(6)} q/s (1 conn) ${result.qpsTwoConnections.toFixed(0).padStart(6)} q/s (2 conns)  recall ${result.recall.toFixed(4)}  [${result.planTop}]`);
    return found;
  };

  // With no vector index yet, the same query is an exact scan: the ground truth for recall.
  const exact = skipCeiling ? null : await measure('exact scan', 'no index', [], null);

  const lists = ivfflatLists(rows);
  const ivfflat = await buildIvfflatIndex(db, IVFFLAT_INDEX, lists);
  console.log(`  built IVFFlat (lists ${lists}) in ${ivfflat.seconds.toFixed(1)} s, ${mb(ivfflat.bytes)}`);
  if (exact) {
    for (const probes of new Set([1, defaultIvfflatProbes(lists)])) await measure('ivfflat', `lists ${lists}, probes ${probes}`, [USE_THE_INDEX, `SET ivfflat.probes = ${probes}`], exact);
  }
  await dropIndex(db, IVFFLAT_INDEX);

  const hnsw = await buildHnswIndex(db);
  console.log(`  built HNSW (${hnsw.parameters}) in ${hnsw.seconds.toFixed(1)} s, ${mb(hnsw.bytes)}`);
  if (exact) {
    for (const ef of HNSW_EF_SEARCH) await measure('hnsw', `ef_search ${ef}`, [USE_THE_INDEX, `SET hnsw.ef_search = ${ef}`], exact);
  }
  return { indexBuilds: [ivfflat, hnsw], ceiling: exact ? ceiling : null };
}

export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
