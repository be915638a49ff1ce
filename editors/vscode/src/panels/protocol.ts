// Messages between the results panel (extension side) and media/results.js (webview side).
// media/results.js checks the extension's messages against the same shapes; keep the two in step.
// No `vscode` import, so unit tests load it in plain Node.

import type { RunQueryResult } from '../lsp_ext';

/** A place in the queried document, zero-based as in LSP. */
export interface ErrorLocation {
  line: number;
  character: number;
}

/** Messages that the extension posts to the webview. */
export type ExtensionMessage =
  | { type: 'running' }
  | { type: 'result'; result: RunQueryResult }
  | { type: 'error'; message: string; location: ErrorLocation | null };

/** Messages that the webview posts to the extension. */
export type WebviewMessage =
  /** The script has loaded and listens; the extension then posts the current state. */
  | { type: 'ready' }
  /** The user clicked the error location; the extension selects it in the editor. */
  | { type: 'revealError' };

/**
 * Localised texts for the webview, embedded in its HTML. `{0}` and `{1}` are placeholders that
 * media/results.js fills in.
 */
export interface ResultsLabels {
  running: string;
  /** Row count of a result with exactly one row. */
  rowCountOne: string;
  /** `{0}`: number of rows, for any count other than one. */
  rowCount: string;
  /** `{0}`: rows shown, `{1}`: rows in the full result. */
  truncated: string;
  /** `{0}`: elapsed milliseconds. */
  elapsed: string;
  /** `{0}`: `demo` or `folder:` followed by the folder path. */
  source: string;
  noRows: string;
  errorTitle: string;
  /** `{0}`: one-based line, `{1}`: one-based column. */
  errorLocation: string;
  empty: string;
}

/** Returns `value` as a `WebviewMessage`, or undefined when it is not one. */
export function parseWebviewMessage(value: unknown): WebviewMessage | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  const type = (value as { type?: unknown }).type;
  if (type === 'ready' || type === 'revealError') {
    return { type };
  }
  return undefined;
}
