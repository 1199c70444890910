import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AdminConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { compareReports, GraphReport, integerHistogram, ReportComparison } from './graph-report';
import { GraphReportRepository } from './graph-report.repository';

/** Builds the coverage and quality report of the graph; optionally saves it for the next comparison. */
@Injectable()
export class GraphReporter {
  private recent: { computedAt: number; report: Promise<GraphReport> } | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly reports: GraphReportRepository,
    @Inject(APP_CONFIG) private readonly config: Pick<AdminConfig, 'graph'>,
  ) {}

  async report(options: { save: boolean }): Promise<{ report: GraphReport; comparison: ReportComparison | null }> {
    const { maxNeighbors: k, threshold } = this.config.graph;
    const db = this.dataSource.manager;
    const [counts, similarity, degrees, previous] = await Promise.all([
      this.reports.studentCounts(db, k),
      this.reports.similarityDistribution(db, Math.max(-1, Math.floor(threshold * 20) / 20), 20),
      this.reports.inDegrees(db, 10),
      this.reports.latest(db),
    ]);
    const { edges, ...students } = counts;
    const report: GraphReport = {
      generatedAt: new Date().toISOString(),
      settings: { k, threshold },
      students,
      coverage: students.withEmbedding === 0 ? 0 : students.withNeighbors / students.withEmbedding,
      edges,
      similarity,
      inDegree: {
        max: degrees.counts.reduce((m, c) => Math.max(m, c.value), 0),
        histogram: integerHistogram(degrees.counts, 16),
        hubs: degrees.hubs,
      },
    };
    if (options.save) await this.reports.save(db, report);
    return { report, comparison: previous ? compareReports(previous, report) : null };
  }

  /**
   * The report as computed at most `maxAgeMs` ago (not saved): the full-table queries run once per
   * period however many replicas' pages and scrapers ask, and concurrent requests share one run.
   */
  async recentReport(maxAgeMs: number): Promise<GraphReport> {
    const now = Date.now();
    if (!this.recent || now - this.recent.computedAt >= maxAgeMs) {
      const report = this.report({ save: false }).then((r) => r.report);
      this.recent = { computedAt: now, report };
      report.catch(() => (this.recent = null));
    }
    return this.recent.report;
  }
}
