import { W1Results } from './w1-results';

interface Bar {
  label: string;
  value: number;
  color: string;
}

interface Panel {
  title: string;
  subtitle: string;
  groups: { label: string; bars: Bar[] }[];
  scale: 'log' | 'linear';
  /** Axis range [min, max] in data units. */
  range: [number, number];
  target?: { value: number; label: string };
  format: (value: number) => string;
}

const WIDTH = 380;
const HEIGHT = 360;
const PLOT = { top: 60, bottom: 300, left: 50, right: WIDTH - 15 };
const COLORS = { service: '#2b6cb0', otherService: '#63b3ed', b: '#dd6b20', a: '#9b2c2c', p50: '#68d391', p95: '#f6ad55', p99: '#e53e3e' };

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A hand-written SVG: events/s and recall of the three runners, and latency percentiles. */
export function renderChart(r: W1Results): string {
  const { service: s, baselines: b } = r;
  const other = r.serviceOtherMode;
  const runners = [
    { label: `service (${s.settings.CANDIDATE_SEARCH})`, color: COLORS.service, eventsPerSecond: s.throughput.eventsPerSecond, recall: s.quality.recall, latency: s.latency.latencyMs },
    ...(other ? [{ label: `service (${other.settings.CANDIDATE_SEARCH})`, color: COLORS.otherService, eventsPerSecond: other.throughput.eventsPerSecond, recall: other.quality.recall, latency: other.latency.latencyMs }] : []),
    { label: 'baseline (b)', color: COLORS.b, eventsPerSecond: b.b.eventsPerSecond, recall: b.b.quality.recall, latency: b.b.latencyMs },
    { label: 'baseline (a)', color: COLORS.a, eventsPerSecond: b.a.eventsPerSecond, recall: b.a.quality.recall, latency: b.a.latencyMs },
  ];
  const maxRate = Math.max(1000, ...runners.map((x) => x.eventsPerSecond));
  const latencies = runners.flatMap((x) => [x.latency.p50, x.latency.p95, x.latency.p99]).filter((x) => x > 0);
  const panels: Panel[] = [
    {
      title: 'Throughput (events/s, log)',
      subtitle: 'service end to end; baselines in handler',
      groups: runners.map((x) => ({ label: x.label, bars: [{ label: x.label, value: x.eventsPerSecond, color: x.color }] })),
      scale: 'log',
      range: [Math.min(1, ...runners.map((x) => x.eventsPerSecond)), 10 ** Math.ceil(Math.log10(maxRate * 1.5))],
      target: { value: 1000, label: 'target 1000' },
      format: (v) => v.toFixed(v < 10 ? 1 : 0),
    },
    {
      title: 'Graph recall@15 after the stream',
      subtitle: `${s.quality.checked} lists vs brute force`,
      groups: runners.map((x) => ({ label: x.label, bars: [{ label: x.label, value: x.recall, color: x.color }] })),
      scale: 'linear',
      range: [0.5, 1],
      target: { value: 0.98, label: 'target 0.98' },
      format: (v) => v.toFixed(3),
    },
    {
      title: 'Latency p50 / p95 / p99 (ms, log)',
      subtitle: `service: event to commit at ${s.latency.targetRate}/s; baselines: per event`,
      groups: runners.map((x) => ({
        label: x.label,
        bars: [
          { label: 'p50', value: x.latency.p50, color: COLORS.p50 },
          { label: 'p95', value: x.latency.p95, color: COLORS.p95 },
          { label: 'p99', value: x.latency.p99, color: COLORS.p99 },
        ],
      })),
      scale: 'log',
      range: [10 ** Math.floor(Math.log10(Math.min(1, ...latencies))), 10 ** Math.ceil(Math.log10(Math.max(50, ...latencies)))],
      target: { value: 50, label: 'p99 target 50' },
      format: (v) => (v < 10 ? v.toFixed(1) : v < 1000 ? v.toFixed(0) : `${(v / 1000).toFixed(1)}k`),
    },
  ];
  const title = `W1: ${r.options.students.toLocaleString('en')} students, ${r.options.events.toLocaleString('en')} events, ${r.data.synthetic ? 'SYNTHETIC vectors' : 'real vectors'}; service default CANDIDATE_SEARCH=${s.settings.CANDIDATE_SEARCH}; ${r.machine.cpu}, ${r.machine.cores} cores`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH * panels.length}" height="${HEIGHT + 30}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="13" font-weight="bold">${escape(title)}</text>`,
    ...panels.map((panel, i) => `<g transform="translate(${i * WIDTH}, 30)">${renderPanel(panel)}</g>`),
    `<g transform="translate(${WIDTH * 2 + 60}, ${HEIGHT + 12})">${legend()}</g>`,
    '</svg>',
  ].join('\n');
}

function renderPanel(panel: Panel): string {
  const y = (value: number) => {
    const [min, max] = panel.range;
    const t = panel.scale === 'log' ? (Math.log10(Math.max(value, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min)) : (Math.max(value, min) - min) / (max - min);
    return PLOT.bottom - Math.min(1, t) * (PLOT.bottom - PLOT.top);
  };
  const parts = [
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="12" font-weight="bold">${escape(panel.title)}</text>`,
    `<text x="${WIDTH / 2}" y="36" text-anchor="middle" fill="#555">${escape(panel.subtitle)}</text>`,
    `<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.left}" y2="${PLOT.bottom}" stroke="#333"/>`,
    `<line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}" stroke="#333"/>`,
    ...ticks(panel).map((t) => `<line x1="${PLOT.left - 4}" y1="${y(t)}" x2="${PLOT.right}" y2="${y(t)}" stroke="#eee"/><text x="${PLOT.left - 6}" y="${y(t) + 4}" text-anchor="end">${panel.format(t)}</text>`),
  ];
  const groupWidth = (PLOT.right - PLOT.left) / panel.groups.length;
  panel.groups.forEach((group, g) => {
    const barWidth = (groupWidth * 0.7) / group.bars.length;
    const x0 = PLOT.left + g * groupWidth + groupWidth * 0.15;
    group.bars.forEach((bar, i) => {
      const x = x0 + i * barWidth;
      const top = y(bar.value);
      parts.push(`<rect x="${x}" y="${top}" width="${barWidth - 2}" height="${PLOT.bottom - top}" fill="${bar.color}"><title>${escape(`${group.label} ${bar.label}: ${panel.format(bar.value)}`)}</title></rect>`);
      parts.push(`<text x="${x + (barWidth - 2) / 2}" y="${top - 3}" text-anchor="middle" font-size="${group.bars.length > 1 ? 8 : 10}">${panel.format(bar.value)}</text>`);
    });
    parts.push(`<text x="${PLOT.left + (g + 0.5) * groupWidth}" y="${PLOT.bottom + 15}" text-anchor="middle">${escape(group.label)}</text>`);
  });
  if (panel.target) {
    const ty = y(panel.target.value);
    parts.push(`<line x1="${PLOT.left}" y1="${ty}" x2="${PLOT.right}" y2="${ty}" stroke="#000" stroke-dasharray="4 3"/><text x="${PLOT.right}" y="${ty - 3}" text-anchor="end" font-size="9">${escape(panel.target.label)}</text>`);
  }
  return parts.join('\n');
}

function ticks(panel: Panel): number[] {
  const [min, max] = panel.range;
  if (panel.scale === 'log') {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); 10 ** e <= max; e++) if (10 ** e >= min) out.push(10 ** e);
    return out;
  }
  return Array.from({ length: 6 }, (_, i) => min + ((max - min) * i) / 5);
}

function legend(): string {
  return (['p50', 'p95', 'p99'] as const)
    .map((p, i) => `<rect x="${i * 60}" y="0" width="10" height="10" fill="${COLORS[p]}"/><text x="${i * 60 + 14}" y="9">${p}</text>`)
    .join('');
}
