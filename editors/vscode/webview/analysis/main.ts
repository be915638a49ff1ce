// Entry point of the Quarry analysis webview, bundled into media/analysis.js. It receives one
// analysis from src/panels/analysis.ts, checks its shape, and draws it: a time series with its
// baseline and anomaly markers, a collapsible process tree, or the layers of a decoded command.
// Every value from log data goes into the DOM through textContent or canvas text, never as HTML.

import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';
import type { Alert } from '../../src/alerts';
import type { DecodeLayer, DecodeResult, ProcessNode, ProcessTreeResult, TimeseriesResult } from '../../src/lsp_ext_analyze';
import {
  type AnalysisLabels,
  type AnalysisMessage,
  type AnalysisWebviewMessage,
  parseAnalysisMessage,
} from '../../src/panels/analysis_protocol';
import { format, requireElement, textElement } from '../results/dom';
import { showEnrichment } from './enrichment';
import { showSessions } from './sessions';
import { showTimeline } from './timeline';
import { formatTime, themeColor } from './theme';

Chart.register(CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, ScatterController, Tooltip);

interface VsCodeApi {
  postMessage(message: AnalysisWebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** The most processes the tree draws; larger trees show a notice. A guess at what stays responsive. */
const MAX_DRAWN_PROCESSES = 5_000;

const FALLBACK_LABELS: AnalysisLabels = {
  empty: 'Run an analysis from the command palette.',
  value: 'Value',
  baseline: 'Baseline',
  anomaly: 'Anomaly',
  anomalyCount: '{0} anomalous points of {1}',
  periods: 'Anomaly periods',
  noPeriods: 'No anomaly periods.',
  kqlFilter: 'KQL filter',
  copy: 'Copy',
  processSummary: '{0} processes, {1} roots, {2} levels deep',
  processesTruncated: 'Showing {0} of {1} processes.',
  inferred: 'inferred parent',
  layerCount: '{0} decoded layers',
  input: 'Input',
  indicators: 'Indicators',
  noIndicators: 'No indicators in the decoded text.',
  limits: 'Decoding stopped early',
  bytes: '{0} bytes',
  alertCount: '{0} alerts',
  alertsOmitted: '{0} more rows are not shown.',
  entities: 'Entities',
  extendedProperties: 'Extended properties',
  pivot: 'Pivot',
  indicatorCount: '{0} indicators',
  indicatorsTruncated: 'Only the first indicators were looked up.',
  addressType: 'Address type',
  location: 'Location',
  network: 'Network',
  threatIntel: 'Threat intelligence',
  noProviders: 'No threat-intelligence provider is configured.',
  pendingProviders: 'Still waiting for',
  reference: 'Open report',
  noLocations: 'No indicator has a GeoIP location.',
  mapCaption: '{0} located indicators',
  sessionCount: '{0} sessions, windows of {1} commands',
  user: 'User',
  start: 'Start',
  events: 'Events',
  likelihood: 'Rarest window likelihood',
  commands: 'Commands',
  noScore: 'shorter than the window',
  timelineSummary: '{0} events in {1} series',
  eventsOmitted: '{0} rows are not drawn.',
};

const vscode = acquireVsCodeApi();
const heading = requireElement('heading');
const content = requireElement('content');
const labels = readLabels();
let chart: Chart | undefined;

window.addEventListener('message', (event: MessageEvent) => {
  const message = parseAnalysisMessage(event.data);
  if (message === undefined) {
    console.warn('Quarry analysis: ignored a message of unexpected shape');
    return;
  }
  vscode.setState(message);
  show(message);
});

const saved = parseAnalysisMessage(vscode.getState());
if (saved === undefined) {
  content.replaceChildren(textElement('p', 'empty', labels.empty));
} else {
  show(saved);
}
vscode.postMessage({ type: 'ready' });

function show(message: AnalysisMessage): void {
  chart?.destroy();
  chart = undefined;
  heading.replaceChildren(textElement('h1', 'title', message.title));
  content.replaceChildren();
  document.body.dataset.analysis = message.type;
  switch (message.type) {
    case 'timeseries':
      showTimeseries(message.result);
      break;
    case 'processTree':
      showProcessTree(message.result);
      break;
    case 'decode':
      showDecode(message.input, message.result);
      break;
    case 'alerts':
      showAlerts(message.alerts, message.omitted);
      break;
    case 'sessions':
      showSessions(content, message.result, labels);
      break;
    case 'timeline':
      chart = showTimeline(content, message.timeline, labels);
      break;
    case 'enrichment':
      showEnrichment(content, message.result, labels, (reply) => vscode.postMessage(reply));
      break;
  }
}

function showAlerts(alerts: Alert[], omitted: number): void {
  content.append(textElement('p', 'alert-count', format(labels.alertCount, String(alerts.length))));
  if (omitted > 0) {
    content.append(textElement('p', 'truncated', format(labels.alertsOmitted, String(omitted))));
  }
  for (const alert of alerts) {
    const node = document.createElement('details');
    node.className = 'alert';
    node.open = true;
    const summary = document.createElement('summary');
    summary.append(
      textElement('span', `alert-severity severity-${alert.severity.toLowerCase().replace(/[^a-z]/g, '')}`, alert.severity),
      textElement('span', 'alert-name', alert.name),
      textElement('span', 'alert-time', alert.time),
      textElement('span', 'alert-provider', alert.provider),
    );
    node.append(summary);
    if (alert.description !== '') {
      node.append(textElement('p', 'alert-description', alert.description));
    }
    if (alert.entities.length > 0) {
      node.append(textElement('h3', 'section-title', labels.entities));
      const list = document.createElement('ul');
      list.className = 'alert-entities';
      for (const entity of alert.entities) {
        const item = document.createElement('li');
        item.className = 'alert-entity';
        item.append(textElement('span', 'entity-kind', entity.kind), textElement('span', 'entity-value', entity.value));
        const pivotEntity = entity.pivotEntity;
        if (pivotEntity !== null) {
          const button = textElement('button', 'pivot', labels.pivot);
          button.type = 'button';
          button.addEventListener('click', () => vscode.postMessage({ type: 'pivot', entity: pivotEntity, value: entity.value }));
          item.append(button);
        }
        item.append(propertyTable('entity-properties', entity.properties));
        list.append(item);
      }
      node.append(list);
    }
    if (alert.extendedProperties.length > 0) {
      node.append(
        textElement('h3', 'section-title', labels.extendedProperties),
        propertyTable('extended-properties', alert.extendedProperties),
      );
    }
    content.append(node);
  }
}

function propertyTable(className: string, pairs: [string, string][]): HTMLElement {
  const table = document.createElement('table');
  table.className = className;
  for (const [key, value] of pairs) {
    const row = document.createElement('tr');
    row.append(textElement('th', 'property-name', key), textElement('td', 'property-value', value));
    table.append(row);
  }
  return table;
}

function showTimeseries(result: TimeseriesResult): void {
  const anomalous = result.points.filter((point) => point.anomalies !== 0);
  content.append(
    textElement('p', 'anomaly-count', format(labels.anomalyCount, String(anomalous.length), String(result.points.length))),
  );

  const frame = document.createElement('div');
  frame.className = 'chart-frame';
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', result.valueColumn);
  frame.append(canvas);
  content.append(frame);

  const context = canvas.getContext('2d');
  if (context !== null) {
    const foreground = themeColor('--vscode-foreground', '#cccccc');
    const grid = themeColor('--vscode-editorWidget-border', '#454545');
    const toXy = (time: string, y: number) => ({ x: Date.parse(time), y });
    chart = new Chart(context, {
      type: 'line',
      data: {
        datasets: [
          {
            label: result.valueColumn,
            data: result.points.map((point) => toXy(point.time, point.value)),
            borderColor: themeColor('--vscode-charts-blue', '#3794ff'),
            pointRadius: 0,
            borderWidth: 1.5,
          },
          {
            label: labels.baseline,
            data: result.points.map((point) => toXy(point.time, point.baseline)),
            borderColor: themeColor('--vscode-charts-green', '#89d185'),
            borderDash: [6, 4],
            pointRadius: 0,
            borderWidth: 1.5,
          },
          {
            type: 'scatter',
            label: labels.anomaly,
            data: anomalous.map((point) => toXy(point.time, point.value)),
            borderColor: themeColor('--vscode-charts-red', '#f14c4c'),
            backgroundColor: themeColor('--vscode-charts-red', '#f14c4c'),
            pointRadius: 5,
            pointStyle: 'triangle',
          },
        ],
      },
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
          y: { type: 'linear', ticks: { color: foreground }, grid: { color: grid } },
        },
        plugins: {
          legend: { labels: { color: foreground } },
          tooltip: { callbacks: { title: (items) => (items.length > 0 ? formatTime(items[0].parsed.x ?? 0) : '') } },
        },
      },
    });
  }

  content.append(textElement('h2', 'section-title', labels.periods));
  if (result.periods.length === 0) {
    content.append(textElement('p', 'no-periods', labels.noPeriods));
  } else {
    const list = document.createElement('ul');
    list.className = 'periods';
    for (const period of result.periods) {
      list.append(textElement('li', 'period', `${period.start} – ${period.end}`));
    }
    content.append(list);
  }
  if (result.kqlFilter !== null) {
    content.append(textElement('h2', 'section-title', labels.kqlFilter), codeBlock('kql-filter', result.kqlFilter));
  }
}

function showProcessTree(result: ProcessTreeResult): void {
  const { summary } = result;
  content.append(
    textElement(
      'p',
      'process-summary',
      format(labels.processSummary, String(summary.processes), String(summary.roots), String(summary.maxDepth + 1)),
    ),
  );
  const drawn = result.processes.slice(0, MAX_DRAWN_PROCESSES);
  if (drawn.length < result.processes.length) {
    content.append(
      textElement('p', 'truncated', format(labels.processesTruncated, String(drawn.length), String(result.processes.length))),
    );
  }

  const children = new Map<string, ProcessNode[]>();
  const keys = new Set(drawn.map((process) => process.key));
  const roots: ProcessNode[] = [];
  for (const process of drawn) {
    if (process.parentKey === null || !keys.has(process.parentKey)) {
      roots.push(process);
      continue;
    }
    const siblings = children.get(process.parentKey) ?? [];
    siblings.push(process);
    children.set(process.parentKey, siblings);
  }

  const tree = document.createElement('div');
  tree.className = 'process-tree';
  // An explicit stack instead of recursion: a hostile log can nest processes deeply.
  const stack: { process: ProcessNode; parent: HTMLElement }[] = roots
    .slice()
    .reverse()
    .map((process) => ({ process, parent: tree }));
  while (stack.length > 0) {
    const { process, parent } = stack.pop() as { process: ProcessNode; parent: HTMLElement };
    const node = processNode(process, children.has(process.key));
    parent.append(node);
    for (const child of (children.get(process.key) ?? []).slice().reverse()) {
      stack.push({ process: child, parent: node });
    }
  }
  content.append(tree);
}

function processNode(process: ProcessNode, hasChildren: boolean): HTMLElement {
  const node = document.createElement('details');
  node.className = 'process';
  node.open = process.depth < 2;
  if (!hasChildren) {
    node.classList.add('leaf');
  }
  const summary = document.createElement('summary');
  summary.append(
    textElement('span', 'process-name', process.name),
    textElement('span', 'process-id', process.processId),
    textElement('span', 'process-time', process.time),
  );
  if (process.host !== null) {
    summary.append(textElement('span', 'process-host', process.host));
  }
  if (process.inferred) {
    summary.append(textElement('span', 'process-inferred', labels.inferred));
  }
  node.append(summary);
  if (process.commandLine !== null && process.commandLine !== '') {
    node.append(textElement('code', 'command-line', process.commandLine));
  }
  return node;
}

function showDecode(input: string, result: DecodeResult): void {
  content.append(
    textElement('p', 'layer-count', format(labels.layerCount, String(result.layers))),
    textElement('h2', 'section-title', labels.input),
    codeBlock('decode-input', input),
  );

  const tree = document.createElement('div');
  tree.className = 'decode-tree';
  const stack: { layer: DecodeLayer; parent: HTMLElement }[] = result.tree.children
    .slice()
    .reverse()
    .map((layer) => ({ layer, parent: tree }));
  while (stack.length > 0) {
    const { layer, parent } = stack.pop() as { layer: DecodeLayer; parent: HTMLElement };
    const node = decodeLayerNode(layer);
    parent.append(node);
    for (const child of layer.children.slice().reverse()) {
      stack.push({ layer: child, parent: node });
    }
  }
  content.append(tree);

  content.append(textElement('h2', 'section-title', labels.indicators));
  if (result.indicators.length === 0) {
    content.append(textElement('p', 'no-indicators', labels.noIndicators));
  } else {
    const list = document.createElement('ul');
    list.className = 'indicators';
    for (const indicator of result.indicators) {
      const item = document.createElement('li');
      item.append(textElement('span', 'indicator-type', indicator.type), textElement('span', 'indicator-value', indicator.value));
      list.append(item);
    }
    content.append(list);
  }
  if (result.limits.length > 0) {
    content.append(textElement('h2', 'section-title', labels.limits));
    const list = document.createElement('ul');
    list.className = 'limits';
    for (const limit of result.limits) {
      list.append(textElement('li', 'limit', limit));
    }
    content.append(list);
  }
}

function decodeLayerNode(layer: DecodeLayer): HTMLElement {
  const node = document.createElement('details');
  node.className = 'layer';
  node.open = true;
  const summary = document.createElement('summary');
  summary.append(
    textElement('span', 'layer-encoding', layer.encoding),
    textElement('span', 'layer-type', layer.fileType),
    textElement('span', 'layer-size', format(labels.bytes, String(layer.size))),
  );
  if (layer.name !== null) {
    summary.append(textElement('span', 'layer-name', layer.name));
  }
  node.append(summary);
  if (layer.preview !== null) {
    node.append(codeBlock('layer-preview', layer.preview));
  }
  node.append(textElement('div', 'layer-hash', `SHA-256 ${layer.sha256}`));
  return node;
}

/** A preformatted block with a copy button that sends its text to the extension. */
function codeBlock(className: string, text: string): HTMLElement {
  const block = document.createElement('div');
  block.className = 'code-block';
  const button = textElement('button', 'copy', labels.copy);
  button.type = 'button';
  button.addEventListener('click', () => vscode.postMessage({ type: 'copy', text }));
  block.append(textElement('pre', className, text), button);
  return block;
}

function readLabels(): AnalysisLabels {
  const meta = document.querySelector('meta[name="quarry-labels"]');
  try {
    const parsed: unknown = JSON.parse(meta?.getAttribute('content') ?? '');
    if (typeof parsed === 'object' && parsed !== null) {
      const merged: AnalysisLabels = { ...FALLBACK_LABELS };
      for (const key of Object.keys(FALLBACK_LABELS) as (keyof AnalysisLabels)[]) {
        const value = (parsed as Record<string, unknown>)[key];
        if (typeof value === 'string') {
          merged[key] = value;
        }
      }
      return merged;
    }
  } catch {
    // Fall through to the English labels.
  }
  return FALLBACK_LABELS;
}
