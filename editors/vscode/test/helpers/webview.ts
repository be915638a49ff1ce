// Loads media/results.js into a jsdom page built from the real HTML shell, with a recording
// stand-in for the webview host's `acquireVsCodeApi`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { JSDOM, VirtualConsole } from 'jsdom';
import type { ResultsLabels } from '../../src/panels/protocol';
import { buildResultsHtml } from '../../src/panels/results_html';

export const LABELS: ResultsLabels = {
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
  empty: 'Run a query.',
  filterPlaceholder: 'Filter rows',
  filterMatches: '{0} of {1} rows',
  copyCell: 'Copy cell',
  pivotCell: 'Pivot on cell',
  enrichCell: 'Enrich cell',
  decodeCell: 'Decode cell',
  copyRow: 'Copy row',
  copySelection: 'Copy selection',
  exportCsv: 'Export CSV',
  exportJson: 'Export JSON',
  sortHint: 'Sort',
  resizeHint: 'Resize',
  chartUnsupported: 'Cannot draw a {0}.',
  chartNoData: 'Nothing to plot.',
  chartTruncated: 'The chart shows {0} of {1} points.',
};

// Tests run from out/test/helpers, three levels below the extension folder.
const SCRIPT_PATH = path.resolve(__dirname, '..', '..', '..', 'media', 'results.js');

export interface LoadedWebview {
  window: JSDOM['window'];
  document: Document;
  /** Messages the script posted to the extension. */
  posted: unknown[];
  /** Calls to window.alert; any entry means hostile content ran. */
  alerts: unknown[];
  /** Arguments of console.warn calls made by the script. */
  warnings: unknown[][];
  /** Features that jsdom lacks and the script used, such as a canvas 2D context. */
  notImplemented: string[];
  /** Value last passed to setState. */
  state(): unknown;
  /** Delivers a message from the extension, as the webview host does. */
  receive(data: unknown): void;
}

export function loadWebview(savedState?: unknown): LoadedWebview {
  const html = buildResultsHtml({
    cspSource: 'vscode-resource:',
    nonce: 'test-nonce',
    scriptUri: 'vscode-resource:/media/results.js',
    styleUri: 'vscode-resource:/media/results.css',
    title: 'Quarry Results',
    labels: LABELS,
  });
  return loadPage(html, SCRIPT_PATH, savedState);
}

/**
 * Loads `html` into jsdom and runs the script at `scriptPath` in it, with a recording stand-in
 * for `acquireVsCodeApi` that starts from `savedState`.
 */
export function loadPage(html: string, scriptPath: string, savedState?: unknown): LoadedWebview {
  // "dangerously" runs inline handlers and scripts, so markup that slipped into the DOM as HTML
  // would run and show up in `alerts`.
  const warnings: unknown[][] = [];
  const virtualConsole = new VirtualConsole();
  virtualConsole.on('warn', (...args: unknown[]) => warnings.push(args));
  const notImplemented: string[] = [];
  virtualConsole.on('jsdomError', (error: Error) => {
    // jsdom has no canvas, so the chart gets no 2D context; the script must cope with that.
    if (error.message.startsWith('Not implemented: HTMLCanvasElement')) {
      notImplemented.push(error.message);
      return;
    }
    throw error;
  });
  const dom = new JSDOM(html, { runScripts: 'dangerously', virtualConsole });
  const window = dom.window;

  const posted: unknown[] = [];
  const alerts: unknown[] = [];
  let state = savedState;
  window.alert = (message?: unknown) => {
    alerts.push(message);
  };
  Object.assign(window, {
    acquireVsCodeApi: () => ({
      // The host delivers a structured clone; a JSON copy also moves it out of the jsdom realm
      // so that deepStrictEqual compares plain objects.
      postMessage: (message: unknown) => posted.push(JSON.parse(JSON.stringify(message))),
      getState: () => state,
      setState: (value: unknown) => {
        state = value;
      },
    }),
  });

  window.eval(fs.readFileSync(scriptPath, 'utf8'));

  return {
    window,
    document: window.document,
    posted,
    alerts,
    warnings,
    notImplemented,
    state: () => state,
    receive(data: unknown) {
      window.dispatchEvent(new window.MessageEvent('message', { data }));
    },
  };
}
