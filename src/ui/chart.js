// A time-series line chart on uPlot, made readable without colour: every series has its own
// line pattern (shown in the legend too), axes say what they measure and in which unit, the
// figure has a text description, and the page always offers the same numbers as a table.
import uPlot from './vendor/uplot.esm.js';

// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), darkest first.
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#000000', '#E69F00', '#56B4E9', '#7F7F7F'];
// Canvas dash patterns, and the nearest CSS border style for the legend marker.
const PATTERNS = [
  { dash: [], css: 'solid', name: 'solid line' },
  { dash: [10, 5], css: 'dashed', name: 'dashed line' },
  { dash: [2, 4], css: 'dotted', name: 'dotted line' },
  { dash: [14, 4, 3, 4], css: 'double', name: 'dash-dot line' },
  { dash: [20, 6], css: 'dashed', name: 'long-dashed line' },
  { dash: [3, 3, 3, 9], css: 'dotted', name: 'dot-dot line' },
  { dash: [6, 3], css: 'dashed', name: 'short-dashed line' },
  { dash: [1, 8], css: 'dotted', name: 'sparse dotted line' },
];

/** Tick steps in buckets: hours that divide a day, then days and weeks. */
const NICE_STEPS = [1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 168, 336];

export const seriesStyle = (i) => ({ colour: COLOURS[i % COLOURS.length], pattern: PATTERNS[i % PATTERNS.length] });

/**
 * Draws a chart into `figure` (a <figure>). `xs`: epoch seconds; `series`: `{ label, values }`
 * with null for "no data"; `format(n)` writes a y value with its unit; `xFormat(seconds)` an x
 * label (a "\n" makes it two lines); `xTickSpacing`: px per x label. Answers `{ destroy }`.
 */
export function lineChart(figure, { xs, series, xLabel, yLabel, format, xFormat, description, height = 320, xTickSpacing = 80 }) {
  figure.setAttribute('role', 'img');
  figure.setAttribute('aria-label', description);
  const host = document.createElement('div');
  host.className = 'chart-host';
  // The canvas says nothing to a screen reader; the description above and the table do.
  host.setAttribute('aria-hidden', 'true');
  figure.append(host);

  const options = {
    width: Math.max(240, host.clientWidth || 800),
    height,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      {
        label: xLabel,
        labelSize: 30,
        stroke: '#333',
        grid: { stroke: '#e3e6ea' },
        ticks: { stroke: '#c5cad1' },
        // Ticks on buckets only (never between two hours), as many as fit, at round steps (every
        // 6 hours from midnight, not from wherever the range starts), labelled as the table labels them.
        splits: (u) => {
          const fit = Math.ceil(xs.length / Math.max(2, Math.floor(u.bbox.width / devicePixelRatio / xTickSpacing)));
          const every = NICE_STEPS.find((n) => n >= fit) ?? fit;
          const step = xs.length > 1 ? xs[1] - xs[0] : 1;
          return xs.filter((x) => Math.round(x / step) % every === 0);
        },
        size: xFormat(xs[0] ?? 0).includes('\n') ? 60 : 50,
        values: (_u, splits) => {
          const labels = splits.map((x) => xFormat(x));
          // The labels are drawn on the canvas; this lets a reader (and the tests) see them as text.
          host.dataset.xTicks = labels.join(' | ').replaceAll('\n', ' ');
          return labels;
        },
      },
      {
        label: yLabel,
        labelSize: 30,
        size: 80,
        stroke: '#333',
        grid: { stroke: '#e3e6ea' },
        ticks: { stroke: '#c5cad1' },
        values: (_u, ticks) => ticks.map((t) => format(t)),
      },
    ],
    // Labels only: the hovered values would repeat the table, and "–" for "not hovering" reads as data.
    legend: { live: false, markers: { width: 3, dash: (_u, i) => (i === 0 ? 'solid' : seriesStyle(i - 1).pattern.css) } },
    cursor: { points: { size: 8 } },
    series: [
      { label: 'Time (UTC)' },
      ...series.map((s, i) => {
        const style = seriesStyle(i);
        return {
          label: s.label,
          stroke: style.colour,
          width: 2,
          dash: style.pattern.dash,
          spanGaps: false,
          points: { show: true, size: 6, fill: style.colour, stroke: style.colour },
          value: (_u, v) => (v === null || v === undefined ? '–' : format(v)),
        };
      }),
    ],
  };
  const plot = new uPlot(options, [xs, ...series.map((s) => s.values)], host);
  const resize = new ResizeObserver(() => {
    const width = Math.max(240, host.clientWidth);
    if (width !== plot.width) plot.setSize({ width, height });
  });
  resize.observe(figure);
  return {
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}
