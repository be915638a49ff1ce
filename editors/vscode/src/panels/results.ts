// The "Quarry Results" webview panel: one instance, reused for every run.

import * as vscode from 'vscode';
import * as path from 'path';
import { type ExportFormat, exportText } from '../export';
import type { CellValue, Range, ResultColumn, RunQueryResult } from '../lsp_ext';
import {
  type ExtensionMessage,
  type ResultsLabels,
  parseWebviewMessage,
} from './protocol';
import { buildResultsHtml, createNonce } from './results_html';

export const RESULTS_VIEW_TYPE = 'quarry.results';

/** Document and range of a failed query's error, which the panel can select in the editor. */
export interface ErrorTarget {
  uri: vscode.Uri;
  range: Range;
}

export class ResultsPanel implements vscode.Disposable {
  private static current: ResultsPanel | undefined;
  /** The last result shown, which the analysis commands read. Kept when the panel closes. */
  private static lastResult: RunQueryResult | undefined;

  /** Handles the Pivot button on a result cell; set by the pivot command's registration. */
  static onPivotCell: ((value: string, column: string) => void) | undefined;
  /** Handles the Enrich button on a result cell; set by the enrich command's registration. */
  static onEnrichCell: ((value: string) => void) | undefined;
  /** Handles the Decode button on a result cell; set by the analysis commands' registration. */
  static onDecodeCell: ((value: string) => void) | undefined;

  /** Returns the result that the panel showed last, or undefined before the first result. */
  static latestResult(): RunQueryResult | undefined {
    return ResultsPanel.lastResult;
  }

  private readonly disposables: vscode.Disposable[] = [];
  /**
   * Last message posted, sent again when the webview loads and posts `ready`. Undefined in a
   * revived panel, whose script redraws the state it saved.
   */
  private state: ExtensionMessage | undefined;
  private errorTarget: ErrorTarget | undefined;

  /** Reveals the panel, creating it beside the active editor when there is none. */
  static createOrShow(extensionUri: vscode.Uri): ResultsPanel {
    if (ResultsPanel.current !== undefined) {
      ResultsPanel.current.panel.reveal(undefined, true);
      return ResultsPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(
      RESULTS_VIEW_TYPE,
      vscode.l10n.t('Quarry Results'),
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      webviewOptions(extensionUri),
    );
    ResultsPanel.current = new ResultsPanel(panel, extensionUri);
    return ResultsPanel.current;
  }

  /**
   * Takes over a panel that VS Code restored after a reload. The webview script redraws its
   * last state from `vscode.getState()`.
   */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri): void {
    ResultsPanel.current?.dispose();
    panel.webview.options = webviewOptions(extensionUri);
    ResultsPanel.current = new ResultsPanel(panel, extensionUri);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
  ) {
    this.panel.webview.html = this.renderHtml();
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      this.panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
    );
  }

  showRunning(): void {
    this.errorTarget = undefined;
    this.post({ type: 'running' });
  }

  showResult(result: RunQueryResult): void {
    this.errorTarget = undefined;
    ResultsPanel.lastResult = result;
    this.post({ type: 'result', result });
  }

  /** Shows a failed run. `target`, when known, lets the user jump to the error's place. */
  showError(message: string, target: ErrorTarget | undefined): void {
    this.errorTarget = target;
    const location = target === undefined ? null : { ...target.range.start };
    this.post({ type: 'error', message, location });
  }

  dispose(): void {
    if (ResultsPanel.current === this) {
      ResultsPanel.current = undefined;
    }
    this.panel.dispose();
    for (const disposable of this.disposables.splice(0)) {
      disposable.dispose();
    }
  }

  private post(message: ExtensionMessage): void {
    this.state = message;
    void this.panel.webview.postMessage(message);
  }

  private onMessage(raw: unknown): void {
    const message = parseWebviewMessage(raw);
    if (message === undefined) {
      // The webview runs only our script, so an unknown message points at a version mismatch.
      console.warn('Quarry results panel: ignored an invalid webview message');
      return;
    }
    switch (message.type) {
      case 'ready':
        if (this.state !== undefined) {
          void this.panel.webview.postMessage(this.state);
        }
        break;
      case 'revealError':
        void this.revealError();
        break;
      case 'copy':
        void this.copy(message.text);
        break;
      case 'export':
        void this.exportRows(message.format, message.columns, message.rows);
        break;
      case 'cellAction':
        if (message.action === 'pivot') {
          ResultsPanel.onPivotCell?.(message.value, message.column);
        } else if (message.action === 'decode') {
          ResultsPanel.onDecodeCell?.(message.value);
        } else {
          ResultsPanel.onEnrichCell?.(message.value);
        }
        break;
    }
  }

  private async copy(text: string): Promise<void> {
    await vscode.env.clipboard.writeText(text);
    vscode.window.setStatusBarMessage(vscode.l10n.t('Copied to the clipboard.'), 3_000);
  }

  /** Asks where to save the rows, then writes them as CSV or JSON. */
  private async exportRows(
    format: ExportFormat,
    columns: ResultColumn[],
    rows: CellValue[][],
  ): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const fileName = `quarry-results.${format}`;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder === undefined ? undefined : vscode.Uri.joinPath(folder, fileName),
      filters:
        format === 'csv'
          ? { [vscode.l10n.t('CSV files')]: ['csv'] }
          : { [vscode.l10n.t('JSON files')]: ['json'] },
      saveLabel: vscode.l10n.t('Export'),
      title: vscode.l10n.t('Export {0} rows', rows.length),
    });
    if (target === undefined) {
      return;
    }
    try {
      const text = exportText(format, columns, rows);
      await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Exported {0} rows to {1}.', rows.length, path.basename(target.path)),
      );
    } catch (error) {
      void vscode.window.showErrorMessage(
        vscode.l10n.t('Export to {0} failed: {1}', target.fsPath, String(error)),
      );
    }
  }

  private async revealError(): Promise<void> {
    const target = this.errorTarget;
    if (target === undefined) {
      return;
    }
    const { start, end } = target.range;
    // Anchored at the end so that the cursor sits at the start of the error, as in the problem
    // navigation of VS Code.
    const selection = new vscode.Selection(end.line, end.character, start.line, start.character);
    const editor = await vscode.window.showTextDocument(target.uri, {
      viewColumn: vscode.ViewColumn.One,
    });
    // Set after opening: the `selection` option of showTextDocument is a Range and loses the
    // direction.
    editor.selection = selection;
    editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private renderHtml(): string {
    const webview = this.panel.webview;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    return buildResultsHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'results.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'results.css')).toString(),
      title: vscode.l10n.t('Quarry Results'),
      labels: resultsLabels(),
    });
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function resultsLabels(): ResultsLabels {
  // Placeholders pass through as `{0}` and `{1}`, so media/results.js fills them in.
  return {
    running: vscode.l10n.t('Running query…'),
    rowCountOne: vscode.l10n.t('1 row'),
    rowCount: vscode.l10n.t('{0} rows', '{0}'),
    truncated: vscode.l10n.t('Showing the first {0} of {1} rows (quarry.run.maxRows).', '{0}', '{1}'),
    elapsed: vscode.l10n.t('{0} ms', '{0}'),
    source: vscode.l10n.t('Source: {0}', '{0}'),
    warnings: vscode.l10n.t('Warnings from the service'),
    noRows: vscode.l10n.t('The query returned no rows.'),
    errorTitle: vscode.l10n.t('The query failed'),
    errorLocation: vscode.l10n.t('Line {0}, column {1}', '{0}', '{1}'),
    empty: vscode.l10n.t('Run a query with Quarry: Run Query (Shift+Enter in a KQL file).'),
    filterPlaceholder: vscode.l10n.t('Filter rows'),
    filterMatches: vscode.l10n.t('{0} of {1} rows', '{0}', '{1}'),
    copyCell: vscode.l10n.t('Copy cell'),
    copyRow: vscode.l10n.t('Copy row'),
    copySelection: vscode.l10n.t('Copy selection'),
    pivotCell: vscode.l10n.t('Pivot on cell'),
    enrichCell: vscode.l10n.t('Enrich cell'),
    decodeCell: vscode.l10n.t('Decode cell'),
    exportCsv: vscode.l10n.t('Export CSV'),
    exportJson: vscode.l10n.t('Export JSON'),
    sortHint: vscode.l10n.t('Sort by this column: ascending, descending, then unsorted'),
    resizeHint: vscode.l10n.t('Drag to resize the column; double-click to fit it'),
    chartUnsupported: vscode.l10n.t('The results panel cannot draw a {0}; the rows are below.', '{0}'),
    chartNoData: vscode.l10n.t('The result has no numeric column that this chart can plot.'),
    chartTruncated: vscode.l10n.t('The chart shows {0} of {1} points.', '{0}', '{1}'),
  };
}
