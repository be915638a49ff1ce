// Messages between the results panel (extension side) and the webview script, which is bundled
// from webview/results/ into media/results.js. The webview checks the extension's messages in
// webview/results/messages.ts and the extension checks the webview's here; keep both in step.
// No `vscode` import, so unit tests load it in plain Node.

import type { CellValue, ResultColumn, RunQueryResult } from '../lsp_ext';
import type { ExportFormat } from '../export';

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
  | { type: 'revealError' }
  /** The user copied cells; the extension puts `text` on the clipboard. */
  | { type: 'copy'; text: string }
  /**
   * Export request for the rows in view, in their sorted and filtered order. The extension opens
   * a save dialog for them.
   */
  | { type: 'export'; format: ExportFormat; columns: ResultColumn[]; rows: CellValue[][] }
  /**
   * The user asked for pivots on, or enrichment of, the focused cell. `column` is the cell's
   * column name, a hint for the entity type.
   */
  | { type: 'cellAction'; action: CellAction; value: string; column: string };

/** Action requested by a result cell's Pivot, Enrich or Decode button. */
export type CellAction = 'pivot' | 'enrich' | 'decode';

/** Maximum length, in characters, of the cell text that a cell action sends. */
export const MAX_CELL_ACTION_TEXT = 65_536;

/**
 * Localised texts for the webview, embedded in its HTML. `{0}` and `{1}` are placeholders that
 * the webview script fills in.
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
  /** `{0}`: `demo`, `folder:` followed by the folder path, or `connection:` followed by its name. */
  source: string;
  /** Heading of the list of the service's warnings. */
  warnings: string;
  noRows: string;
  errorTitle: string;
  /** `{0}`: one-based line, `{1}`: one-based column. */
  errorLocation: string;
  empty: string;
  /** Placeholder of the filter box. */
  filterPlaceholder: string;
  /** `{0}`: rows that match the filter, `{1}`: rows in the grid. */
  filterMatches: string;
  copyCell: string;
  copyRow: string;
  copySelection: string;
  pivotCell: string;
  enrichCell: string;
  decodeCell: string;
  exportCsv: string;
  exportJson: string;
  /** Tooltip of a column header. */
  sortHint: string;
  /** Tooltip of the handle between column headers. */
  resizeHint: string;
  /** `{0}`: the chart kind of a `render` operator that the panel cannot draw. */
  chartUnsupported: string;
  /** Shown when the result has no columns that the chart kind can plot. */
  chartNoData: string;
  /** `{0}`: points drawn, `{1}`: points in the result. */
  chartTruncated: string;
}

const EXPORT_FORMATS: ReadonlySet<string> = new Set(['csv', 'json']);

/** Returns `value` as a `WebviewMessage`, or undefined when it is not one. */
export function parseWebviewMessage(value: unknown): WebviewMessage | undefined {
  if (!isRecord(value)) {
    return undefined;
  }
  switch (value.type) {
    case 'ready':
    case 'revealError':
      return { type: value.type };
    case 'copy':
      return typeof value.text === 'string' ? { type: 'copy', text: value.text } : undefined;
    case 'cellAction': {
      const { action, value: text, column } = value;
      if ((action !== 'pivot' && action !== 'enrich' && action !== 'decode') || typeof column !== 'string') {
        return undefined;
      }
      if (typeof text !== 'string' || text.trim() === '' || text.length > MAX_CELL_ACTION_TEXT) {
        return undefined;
      }
      return { type: 'cellAction', action, value: text, column };
    }
    case 'export': {
      const { format, columns, rows } = value;
      if (typeof format !== 'string' || !EXPORT_FORMATS.has(format)) {
        return undefined;
      }
      if (!Array.isArray(columns) || !columns.every(isColumn)) {
        return undefined;
      }
      if (!Array.isArray(rows) || !rows.every((row) => Array.isArray(row) && row.length === columns.length)) {
        return undefined;
      }
      return {
        type: 'export',
        format: format as ExportFormat,
        columns: columns.map((column) => ({ name: column.name, type: column.type })),
        rows: rows as CellValue[][],
      };
    }
    default:
      return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isColumn(value: unknown): value is ResultColumn {
  return isRecord(value) && typeof value.name === 'string' && typeof value.type === 'string';
}
