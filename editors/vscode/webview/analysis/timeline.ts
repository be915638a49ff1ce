// The timeline view: a scatter chart with time on the x axis and one row per series, and a
// vertical line for each reference marker. Labels reach the canvas as text only.

import { Chart } from 'chart.js';
import type { AnalysisLabels } from '../../src/panels/analysis_protocol';
import type { Timeline } from '../../src/timeline';
import { format, textElement } from '../results/dom';
import { formatTime, themeColor } from './theme';

const SERIES_COLOURS = ['blue', 'green', 'orange', 'purple', 'yellow', 'red'];

export function showTimeline(content: HTMLElement, timeline: Timeline, labels: AnalysisLabels): Chart | undefined {
  const total = timeline.series.reduce((sum, series) => sum + series.events.length, 0);
  content.append(textElement('p', 'timeline-summary', format(labels.timelineSummary, String(total), String(timeline.series.length))));
  if (timeline.omitted > 0) {
    content.append(textElement('p', 'truncated', format(labels.eventsOmitted, String(timeline.omitted))));
  }
  const list = document.createElement('ul');
  list.className = 'timeline-series';
  for (const series of timeline.series) {
    list.append(textElement('li', 'series-name', `${series.name} (${series.events.length})`));
  }
  for (const marker of timeline.markers) {
    list.append(textElement('li', 'marker-name', `${formatTime(marker.time)} ${marker.label}`));
  }
  content.append(list);

  const frame = document.createElement('div');
  frame.className = 'chart-frame';
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', timeline.groupColumn ?? timeline.timeColumn);
  frame.append(canvas);
  content.append(frame);
  const context = canvas.getContext('2d');
  if (context === null) {
    return undefined;
  }

  const foreground = themeColor('--vscode-foreground', '#cccccc');
  const grid = themeColor('--vscode-editorWidget-border', '#454545');
  const names = timeline.series.map((series) => series.name);
  const top = Math.max(names.length - 0.5, 0.5);
  const datasets = timeline.series.map((series, index) => {
    const colour = themeColor(`--vscode-charts-${SERIES_COLOURS[index % SERIES_COLOURS.length]}`, '#3794ff');
    return {
      type: 'scatter' as const,
      label: series.name,
      data: series.events.map((event) => ({ x: event.time, y: index, label: event.label })),
      backgroundColor: colour,
      borderColor: colour,
      pointRadius: 4,
    };
  });
  const markerColour = themeColor('--vscode-charts-red', '#f14c4c');
  const markers = timeline.markers.map((marker) => ({
    type: 'line' as const,
    label: marker.label,
    data: [
      { x: marker.time, y: -0.5, label: marker.label },
      { x: marker.time, y: top, label: marker.label },
    ],
    borderColor: markerColour,
    borderDash: [4, 4],
    borderWidth: 1.5,
    pointRadius: 0,
  }));

  return new Chart(context, {
    type: 'scatter',
    data: { datasets: [...datasets, ...markers] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      color: foreground,
      parsing: false,
      scales: {
        x: {
          type: 'linear',
          ticks: { color: foreground, callback: (value) => formatTime(Number(value)), maxRotation: 0, autoSkipPadding: 16 },
          grid: { color: grid },
        },
        y: {
          type: 'linear',
          min: -0.5,
          max: top,
          // One tick per series, at its row; the axis would otherwise start at -0.5.
          afterBuildTicks: (axis) => {
            axis.ticks = names.map((_, index) => ({ value: index }));
          },
          ticks: { color: foreground, callback: (value) => names[Number(value)] ?? '' },
          grid: { color: grid },
        },
      },
      plugins: {
        legend: { labels: { color: foreground } },
        tooltip: {
          callbacks: {
            title: (items) => (items.length > 0 ? formatTime(items[0].parsed.x ?? 0) : ''),
            label: (item) => (item.raw as { label: string }).label,
          },
        },
      },
    },
  });
}
