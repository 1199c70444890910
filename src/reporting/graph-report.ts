/** One bar of a histogram: values in [from, to). */
export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/** What `report` tells about the graph's coverage and quality. */
export interface GraphReport {
  generatedAt: string;
  settings: { k: number; threshold: number };
  students: {
    withEmbedding: number;
    withNeighbors: number;
    /** Students with an embedding and no neighbour above the threshold. */
    withoutNeighbors: number;
    /** Students with some, but fewer than K, neighbours. */
    fewerThanK: number;
    /** Students still in the graph whose embedding is gone. */
    inGraphWithoutEmbedding: number;
  };
  /** Share of students with an embedding that have at least one neighbour. */
  coverage: number;
  edges: number;
  similarity: { mean: number | null; min: number | null; max: number | null; histogram: HistogramBin[] };
  inDegree: { max: number; histogram: HistogramBin[]; hubs: { studentId: string; inDegree: number }[] };
}

/** Changes of the headline figures since an earlier report. */
export interface ReportComparison {
  previousAt: string;
  changes: { figure: string; before: number | null; after: number | null; delta: number | null }[];
}

const HEADLINE: [string, (r: GraphReport) => number | null][] = [
  ['students with an embedding', (r) => r.students.withEmbedding],
  ['coverage', (r) => r.coverage],
  ['students without neighbours', (r) => r.students.withoutNeighbors],
  ['students with fewer than K', (r) => r.students.fewerThanK],
  ['edges', (r) => r.edges],
  ['mean similarity', (r) => r.similarity.mean],
  ['largest in-degree', (r) => r.inDegree.max],
];

export function compareReports(previous: GraphReport, current: GraphReport): ReportComparison {
  return {
    previousAt: previous.generatedAt,
    changes: HEADLINE.map(([figure, read]) => {
      const before = read(previous);
      const after = read(current);
      return { figure, before, after, delta: before === null || after === null ? null : after - before };
    }),
  };
}

/** Groups integer values (with their counts) into about `bins` equal-width bins from 0 to max. */
export function integerHistogram(counts: { value: number; count: number }[], bins: number): HistogramBin[] {
  const max = counts.reduce((m, c) => Math.max(m, c.value), 0);
  const width = Math.max(1, Math.ceil((max + 1) / bins));
  const histogram: HistogramBin[] = [];
  for (let from = 0; from <= max; from += width) histogram.push({ from, to: from + width, count: 0 });
  for (const { value, count } of counts) histogram[Math.floor(value / width)].count += count;
  return histogram;
}

/** A text rendering of a histogram for the terminal. */
function renderHistogram(histogram: HistogramBin[], format: (value: number) => string, width = 40): string[] {
  const peak = Math.max(1, ...histogram.map((b) => b.count));
  return histogram.map((b) => `${format(b.from).padStart(7)} – ${format(b.to).padEnd(7)} ${'█'.repeat(Math.round((b.count / peak) * width)).padEnd(width)} ${b.count}`);
}

export function renderReport(report: GraphReport, comparison: ReportComparison | null): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const s = report.students;
  const lines = [
    `graph report ${report.generatedAt} (K=${report.settings.k}, threshold ${report.settings.threshold})`,
    '',
    `students with an embedding      ${s.withEmbedding}`,
    `  with neighbours               ${s.withNeighbors} (coverage ${pct(report.coverage)})`,
    `  without neighbours            ${s.withoutNeighbors}`,
    `  with fewer than K             ${s.fewerThanK}`,
    `in the graph without embedding  ${s.inGraphWithoutEmbedding}`,
    `edges                           ${report.edges}`,
    '',
    `similarity: mean ${report.similarity.mean?.toFixed(4) ?? '-'}, min ${report.similarity.min?.toFixed(4) ?? '-'}, max ${report.similarity.max?.toFixed(4) ?? '-'}`,
    ...renderHistogram(report.similarity.histogram, (v) => v.toFixed(2)),
    '',
    `in-degree (how many lists name a student): max ${report.inDegree.max}`,
    ...renderHistogram(report.inDegree.histogram, (v) => String(v)),
    `hubs: ${report.inDegree.hubs.map((h) => `${h.studentId} (${h.inDegree})`).join(', ') || '-'}`,
  ];
  if (comparison) {
    lines.push('', `since the previous report (${comparison.previousAt}):`);
    for (const c of comparison.changes) {
      const delta = c.delta === null ? '' : ` (${c.delta >= 0 ? '+' : ''}${Number.isInteger(c.delta) ? c.delta : c.delta.toFixed(4)})`;
      lines.push(`  ${c.figure.padEnd(30)} ${c.before ?? '-'} -> ${c.after ?? '-'}${delta}`);
    }
  }
  return lines.join('\n');
}
