// Draws a `render` chart with Chart.js, which esbuild bundles into media/results.js so that the
// webview loads no remote script. Chart.js draws on a canvas and sets sizes through the CSSOM,
// which the panel's Content Security Policy allows. Labels from log data become canvas text,
// never HTML.

import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartConfiguration,
  type ChartDataset,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PieController,
  PointElement,
  ScatterController,
  Title,
  Tooltip,
} from 'chart.js';
import type { ResultsLabels } from '../../src/panels/protocol';
import type { CategoryChart, ChartData, XyChart } from './chart_data';
import { format, textElement } from './dom';

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PieController,
  PointElement,
  ScatterController,
  Title,
  Tooltip,
);

/** VS Code's chart colours, in the order that series use them, with fallbacks outside VS Code. */
const PALETTE: [variable: string, fallback: string][] = [
  ['--vscode-charts-blue', '#3794ff'],
  ['--vscode-charts-orange', '#d18616'],
  ['--vscode-charts-green', '#89d185'],
  ['--vscode-charts-purple', '#b180d7'],
  ['--vscode-charts-yellow', '#cca700'],
  ['--vscode-charts-red', '#f14c4c'],
];

export interface DrawnChart {
  destroy(): void;
}

/**
 * Draws `data` into `container`. Returns undefined when the browser gives no 2D canvas context
 * (as in jsdom), after leaving the canvas in place.
 */
export function drawChart(container: HTMLElement, data: ChartData, labels: ResultsLabels): DrawnChart | undefined {
  container.replaceChildren();
  container.hidden = false;
  if (data.pointCount < data.totalPoints) {
    container.append(
      textElement('p', 'chart-truncated', format(labels.chartTruncated, String(data.pointCount), String(data.totalPoints))),
    );
  }
  const frame = document.createElement('div');
  frame.className = 'chart-frame';
  const canvas = document.createElement('canvas');
  canvas.className = 'chart-canvas';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', data.options.title ?? data.kind);
  frame.append(canvas);
  container.append(frame);

  const context = canvas.getContext('2d');
  if (context === null) {
    return undefined;
  }
  const config = data.type === 'xy' ? xyConfig(data) : categoryConfig(data);
  const chart = new Chart(context, config);
  return { destroy: () => chart.destroy() };
}

/** Shows a one-line notice in the chart area instead of a chart. */
export function showChartNotice(container: HTMLElement, text: string): void {
  container.replaceChildren(textElement('p', 'chart-notice', text));
  container.hidden = false;
}

function themeColor(variable: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(variable).trim();
  return value.length > 0 ? value : fallback;
}

function seriesColor(index: number): string {
  const [variable, fallback] = PALETTE[index % PALETTE.length];
  return themeColor(variable, fallback);
}

/** Returns `color` with an alpha channel, for area fills and pie slices. */
function translucent(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex === null) {
    return color;
  }
  const value = Number.parseInt(hex[1], 16);
  return `rgba(${value >> 16}, ${(value >> 8) & 0xff}, ${value & 0xff}, ${alpha})`;
}

/**
 * Formats epoch milliseconds in UTC, the zone of KQL datetimes: `YYYY-MM-DD HH:MM`, with seconds
 * when the axis spans less than 10 minutes, and the date alone at midnight.
 */
function formatTime(milliseconds: number, spanMilliseconds: number): string {
  const iso = new Date(milliseconds).toISOString();
  if (iso.endsWith('T00:00:00.000Z')) {
    return iso.slice(0, 10);
  }
  const clock = spanMilliseconds < 600_000 ? iso.slice(11, 19) : iso.slice(11, 16);
  return `${iso.slice(0, 10)} ${clock}`;
}

/** Returns the distance between the smallest and largest x value of all series. */
function xSpan(data: XyChart): number {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const series of data.series) {
    for (const point of series.points) {
      min = Math.min(min, point.x);
      max = Math.max(max, point.x);
    }
  }
  return max > min ? max - min : 0;
}

function commonOptions(data: ChartData) {
  const foreground = themeColor('--vscode-foreground', '#cccccc');
  const grid = themeColor('--vscode-panel-border', 'rgba(128, 128, 128, 0.35)');
  return {
    foreground,
    grid,
    base: {
      animation: false as const,
      responsive: true,
      maintainAspectRatio: false,
      color: foreground,
      plugins: {
        legend: { display: data.options.legend, labels: { color: foreground } },
        title: {
          display: data.options.title !== undefined,
          text: data.options.title ?? '',
          color: foreground,
        },
      },
    },
  };
}

function xyConfig(data: XyChart): ChartConfiguration {
  const { foreground, grid, base } = commonOptions(data);
  // Lines with many points hide their dots, which would cover the line.
  let pointRadius = data.pointCount > 500 ? 0 : 2;
  if (data.kind === 'scatter') {
    pointRadius = 3;
  }
  const datasets: ChartDataset[] = data.series.map((series, index) => {
    const color = seriesColor(index);
    // A stacked area fills down to the series below it, the first one down to the axis.
    let fill: string | false = false;
    if (data.kind === 'area') {
      fill = data.options.stacked && index > 0 ? '-1' : 'origin';
    }
    return {
      type: data.kind === 'scatter' ? 'scatter' : 'line',
      label: series.name,
      data: series.points,
      borderColor: color,
      backgroundColor: data.kind === 'area' ? translucent(color, 0.35) : color,
      fill,
      pointRadius,
      borderWidth: 1.5,
      showLine: data.kind !== 'scatter',
    } as ChartDataset;
  });
  if (data.anomalies.length > 0) {
    datasets.push({
      type: 'scatter',
      label: 'anomalies',
      data: data.anomalies,
      borderColor: themeColor('--vscode-charts-red', '#f14c4c'),
      backgroundColor: themeColor('--vscode-charts-red', '#f14c4c'),
      pointRadius: 4,
    } as ChartDataset);
  }

  const span = xSpan(data);
  const tickFormat = (value: number | string): string => {
    const number = Number(value);
    if (data.xAxis === 'time') {
      return formatTime(number, span);
    }
    if (data.xAxis === 'category') {
      return data.categories[number] ?? '';
    }
    return String(value);
  };
  return {
    type: data.kind === 'scatter' ? 'scatter' : 'line',
    data: { datasets },
    options: {
      ...base,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      scales: {
        x: {
          type: 'linear',
          ticks: { color: foreground, callback: tickFormat, maxRotation: 0, autoSkipPadding: 16 },
          grid: { color: grid },
          title: { display: data.options.xTitle !== undefined, text: data.options.xTitle ?? '', color: foreground },
        },
        y: {
          type: 'linear',
          stacked: data.options.stacked,
          min: data.options.yMin,
          max: data.options.yMax,
          ticks: { color: foreground },
          grid: { color: grid },
          title: { display: data.options.yTitle !== undefined, text: data.options.yTitle ?? '', color: foreground },
        },
      },
      plugins: {
        ...base.plugins,
        tooltip: { callbacks: { title: (items) => (items.length > 0 ? tickFormat(items[0].parsed.x ?? 0) : '') } },
      },
    },
  } as ChartConfiguration;
}

function categoryConfig(data: CategoryChart): ChartConfiguration {
  const { foreground, grid, base } = commonOptions(data);
  if (data.kind === 'pie') {
    const colors = data.labels.map((_, index) => seriesColor(index));
    return {
      type: 'pie',
      data: {
        labels: data.labels,
        datasets: data.series.map((series) => ({
          label: series.name,
          data: series.values,
          backgroundColor: colors.map((color) => translucent(color, 0.8)),
          borderColor: themeColor('--vscode-editor-background', '#1e1e1e'),
        })),
      },
      options: base,
    };
  }
  const horizontal = data.kind === 'bar';
  const valueAxis = {
    type: 'linear' as const,
    stacked: data.options.stacked,
    min: data.options.yMin,
    max: data.options.yMax,
    ticks: { color: foreground },
    grid: { color: grid },
    title: { display: data.options.yTitle !== undefined, text: data.options.yTitle ?? '', color: foreground },
  };
  const labelAxis = {
    type: 'category' as const,
    stacked: data.options.stacked,
    ticks: { color: foreground },
    grid: { color: grid },
    title: { display: data.options.xTitle !== undefined, text: data.options.xTitle ?? '', color: foreground },
  };
  return {
    type: 'bar',
    data: {
      labels: data.labels,
      datasets: data.series.map((series, index) => ({
        label: series.name,
        data: series.values,
        backgroundColor: translucent(seriesColor(index), 0.8),
        borderColor: seriesColor(index),
        borderWidth: 1,
      })),
    },
    options: {
      ...base,
      indexAxis: horizontal ? 'y' : 'x',
      scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
    },
  };
}
