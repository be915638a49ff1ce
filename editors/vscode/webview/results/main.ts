// Entry point of the Quarry results webview, bundled into media/results.js. It receives messages
// from src/panels/results.ts, checks their shape, and shows a summary, an optional chart and the
// grid. Every value from log data goes into the DOM through textContent, so it is never parsed as
// HTML.

import type { ErrorLocation, ExtensionMessage, ResultsLabels, WebviewMessage } from '../../src/panels/protocol';
import type { RunQueryResult } from '../../src/lsp_ext';
import { type DrawnChart, drawChart, showChartNotice } from './chart';
import { buildChartData, isSupportedKind } from './chart_data';
import { format, requireElement, textElement } from './dom';
import { Grid } from './grid';
import { parseExtensionMessage } from './messages';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const FALLBACK_LABELS: ResultsLabels = {
  running: 'Running query…',
  rowCountOne: '1 row',
  rowCount: '{0} rows',
  truncated: 'Showing the first {0} of {1} rows.',
  elapsed: '{0} ms',
  source: 'Source: {0}',
  warnings: 'Warnings from the service',
  noRows: 'The query returned no rows.',
  errorTitle: 'The query failed',
  errorLocation: 'Line {0}, column {1}',
  empty: 'Run a query to see its rows here.',
  filterPlaceholder: 'Filter rows',
  filterMatches: '{0} of {1} rows',
  copyCell: 'Copy cell',
  copyRow: 'Copy row',
  copySelection: 'Copy selection',
  pivotCell: 'Pivot on cell',
  enrichCell: 'Enrich cell',
  decodeCell: 'Decode cell',
  exportCsv: 'Export CSV',
  exportJson: 'Export JSON',
  sortHint: 'Sort by this column',
  resizeHint: 'Drag to resize the column',
  chartUnsupported: 'The panel cannot draw a {0}.',
  chartNoData: 'The result has no columns that this chart can plot.',
  chartTruncated: 'The chart shows {0} of {1} points.',
};

const vscode = acquireVsCodeApi();
const summary = requireElement('summary');
const errorBox = requireElement('error');
const chartArea = requireElement('chart');
const toolbar = requireElement('toolbar');
const results = requireElement('results');
const labels = readLabels();

let grid: Grid | undefined;
let chart: DrawnChart | undefined;

window.addEventListener('message', (event: MessageEvent) => {
  const message = parseExtensionMessage(event.data);
  if (message === undefined) {
    console.warn('Quarry results: ignored a message with an unexpected shape');
    return;
  }
  vscode.setState(message);
  render(message);
});

const saved = parseExtensionMessage(vscode.getState());
if (saved === undefined) {
  renderEmpty();
} else {
  render(saved);
}
vscode.postMessage({ type: 'ready' });

/** Reads the localised texts that the extension put in a meta tag. */
function readLabels(): ResultsLabels {
  const content = document.querySelector('meta[name="quarry-labels"]')?.getAttribute('content');
  if (content === null || content === undefined) {
    return FALLBACK_LABELS;
  }
  try {
    const parsed: unknown = JSON.parse(content);
    const merged: ResultsLabels = { ...FALLBACK_LABELS };
    if (typeof parsed === 'object' && parsed !== null) {
      for (const key of Object.keys(FALLBACK_LABELS) as (keyof ResultsLabels)[]) {
        const value = (parsed as Record<string, unknown>)[key];
        if (typeof value === 'string') {
          merged[key] = value;
        }
      }
    }
    return merged;
  } catch {
    return FALLBACK_LABELS;
  }
}

function render(message: ExtensionMessage): void {
  switch (message.type) {
    case 'running':
      renderRunning();
      break;
    case 'result': {
      // The end-to-end test reads this measure to report how long the panel takes to draw.
      const started = performance.now();
      renderResult(message.result);
      performance.measure?.('quarry.renderResult', { start: started });
      break;
    }
    case 'error':
      renderError(message.message, message.location);
      break;
  }
}

function clear(): void {
  grid?.dispose();
  grid = undefined;
  chart?.destroy();
  chart = undefined;
  summary.replaceChildren();
  errorBox.replaceChildren();
  errorBox.hidden = true;
  chartArea.replaceChildren();
  chartArea.hidden = true;
  toolbar.replaceChildren();
  toolbar.hidden = true;
  results.replaceChildren();
  document.body.classList.remove('running');
}

function renderEmpty(): void {
  clear();
  summary.append(textElement('span', 'hint', labels.empty));
}

/** Lists the service's warnings above the rows; each goes in through textContent. */
function renderWarnings(warnings: readonly string[]): void {
  if (warnings.length === 0) {
    return;
  }
  const box = document.createElement('div');
  box.className = 'warnings';
  box.setAttribute('role', 'status');
  box.append(textElement('p', 'warnings-title', labels.warnings));
  const list = document.createElement('ul');
  for (const warning of warnings) {
    list.append(textElement('li', 'warning', warning));
  }
  box.append(list);
  results.append(box);
}

function renderRunning(): void {
  clear();
  document.body.classList.add('running');
  summary.append(textElement('span', 'status', labels.running));
}

function renderResult(result: RunQueryResult): void {
  clear();

  summary.append(
    textElement(
      'span',
      'row-count',
      result.rowCount === 1 ? labels.rowCountOne : format(labels.rowCount, String(result.rowCount)),
    ),
    textElement('span', 'elapsed', format(labels.elapsed, formatElapsed(result.elapsedMs))),
    textElement('span', 'source', format(labels.source, result.source)),
  );
  if (result.truncated) {
    summary.append(
      textElement(
        'span',
        'truncated',
        format(labels.truncated, String(result.rows.length), String(result.rowCount)),
      ),
    );
  }

  renderWarnings(result.warnings ?? []);
  if (result.render !== undefined) {
    renderChart(result);
  }
  if (result.rows.length === 0) {
    results.append(textElement('p', 'no-rows', labels.noRows));
  }
  grid = new Grid(results, toolbar, result, labels, {
    copy: (text) => vscode.postMessage({ type: 'copy', text }),
    cellAction: (action, value, column) => vscode.postMessage({ type: 'cellAction', action, value, column }),
    exportRows: (exportFormat, rows) =>
      vscode.postMessage({ type: 'export', format: exportFormat, columns: result.columns, rows }),
  });
}

function renderChart(result: RunQueryResult): void {
  const render = result.render;
  if (render === undefined) {
    return;
  }
  chartArea.dataset.kind = render.kind;
  if (!isSupportedKind(render.kind)) {
    showChartNotice(chartArea, format(labels.chartUnsupported, render.kind));
    return;
  }
  const data = buildChartData(result.columns, result.rows, render);
  if (data === undefined) {
    showChartNotice(chartArea, labels.chartNoData);
    return;
  }
  chart = drawChart(chartArea, data, labels);
}

function renderError(message: string, location: ErrorLocation | null): void {
  clear();
  errorBox.hidden = false;
  errorBox.append(
    textElement('h2', 'error-title', labels.errorTitle),
    textElement('pre', 'error-message', message),
  );
  if (location !== null) {
    const button = textElement(
      'button',
      'error-location',
      format(labels.errorLocation, String(location.line + 1), String(location.character + 1)),
    );
    // The mouse press must not focus the webview. The workbench learns of webview focus by
    // polling, every 250 ms in VS Code 1.139. That notice could come after revealError has
    // focused the editor, and the panel would become the active editor again.
    button.addEventListener('mousedown', (event) => event.preventDefault());
    button.addEventListener('click', () => vscode.postMessage({ type: 'revealError' }));
    errorBox.append(button);
  }
}

function formatElapsed(milliseconds: number): string {
  return milliseconds < 10 ? milliseconds.toFixed(1) : String(Math.round(milliseconds));
}
