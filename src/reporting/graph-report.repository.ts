import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { GraphReport } from './graph-report';

/**
 * The read-only aggregate queries behind `report` (over student_embeddings, student_similarity
 * and student_neighbor_pools), and all SQL on similarity_graph_reports.
 */
@Injectable()
export class GraphReportRepository {
  async studentCounts(db: EntityManager, k: number): Promise<GraphReport['students'] & { edges: number }> {
    const [row] = await db.query(
      `WITH lists AS (SELECT a, count(*) AS n FROM student_similarity GROUP BY a)
       SELECT (SELECT count(*) FROM student_embeddings)::int AS with_embedding,
              (SELECT count(*) FROM lists l JOIN student_embeddings e ON e.student_id = l.a)::int AS with_neighbors,
              (SELECT count(*) FROM lists l JOIN student_embeddings e ON e.student_id = l.a WHERE l.n < $1)::int AS fewer_than_k,
              (SELECT count(*) FROM (SELECT a FROM lists UNION SELECT student_id FROM student_neighbor_pools) g
                WHERE NOT EXISTS (SELECT 1 FROM student_embeddings e WHERE e.student_id = g.a))::int AS without_embedding,
              (SELECT count(*) FROM student_similarity)::int AS edges`,
      [k],
    );
    return {
      withEmbedding: row.with_embedding,
      withNeighbors: row.with_neighbors,
      withoutNeighbors: row.with_embedding - row.with_neighbors,
      fewerThanK: row.fewer_than_k,
      inGraphWithoutEmbedding: row.without_embedding,
      edges: row.edges,
    };
  }

  /** Similarity summary and a histogram of `bins` equal bins from `from` to 1. */
  async similarityDistribution(db: EntityManager, from: number, bins: number): Promise<GraphReport['similarity']> {
    const [summary] = await db.query('SELECT avg(sim)::float8 AS mean, min(sim)::float8 AS min, max(sim)::float8 AS max FROM student_similarity');
    const rows: { bin: number; count: number }[] = await db.query(
      `SELECT least(width_bucket(sim, $1::float8, 1.0, $2), $2) AS bin, count(*)::int AS count FROM student_similarity GROUP BY 1`,
      [from, bins],
    );
    const width = (1 - from) / bins;
    const histogram = Array.from({ length: bins }, (_, i) => ({ from: from + i * width, to: from + (i + 1) * width, count: 0 }));
    for (const row of rows) histogram[Math.max(1, row.bin) - 1].count += row.count;
    return { mean: summary.mean, min: summary.min, max: summary.max, histogram };
  }

  /** How many students have each in-degree (0 included), and the students named most. */
  async inDegrees(db: EntityManager, hubs: number): Promise<{ counts: { value: number; count: number }[]; hubs: { studentId: string; inDegree: number }[] }> {
    const counts: { value: number; count: number }[] = await db.query(
      `SELECT coalesce(d.n, 0)::int AS value, count(*)::int AS count
         FROM student_embeddings e LEFT JOIN (SELECT b, count(*) AS n FROM student_similarity GROUP BY b) d ON d.b = e.student_id
        GROUP BY 1 ORDER BY 1`,
    );
    const top: { b: string; n: number }[] = await db.query('SELECT b, count(*)::int AS n FROM student_similarity GROUP BY b ORDER BY n DESC, b LIMIT $1', [hubs]);
    return { counts, hubs: top.map((t) => ({ studentId: t.b, inDegree: t.n })) };
  }

  async latest(db: EntityManager): Promise<GraphReport | null> {
    const rows: { report: GraphReport }[] = await db.query('SELECT report FROM similarity_graph_reports ORDER BY id DESC LIMIT 1');
    return rows[0]?.report ?? null;
  }

  async save(db: EntityManager, report: GraphReport): Promise<void> {
    await db.query('INSERT INTO similarity_graph_reports (report) VALUES ($1::jsonb)', [JSON.stringify(report)]);
  }
}
