// Commands that run the server's hunting analyses and show them in the analysis panel: anomalies
// and process tree on the rows of the results panel, and decoding of the selected command line.

import * as vscode from 'vscode';
import { ResponseError } from 'vscode-languageclient/node';
import type { Ctx } from './ctx';
import type { RunQueryResult } from './lsp_ext';
import {
  ANALYZE_TIMESERIES_REQUEST,
  type AnalyzeTimeseriesParams,
  DECODE_REQUEST,
  PROCESS_TREE_REQUEST,
  parseDecodeResult,
  parseProcessTreeResult,
  parseTimeseriesResult,
  timeseriesCandidates,
} from './lsp_ext_analyze';
import { extractAlerts } from './alerts';
import { AnalysisPanel } from './panels/analysis';
import { ResultsPanel } from './panels/results';

export const FIND_ANOMALIES = 'quarry.findAnomalies';
export const SHOW_PROCESS_TREE = 'quarry.showProcessTree';
export const DECODE_SELECTION = 'quarry.decodeSelection';
export const SHOW_ALERTS = 'quarry.showAlerts';

export function registerAnalysisCommands(ctx: Ctx): void {
  ctx.pushDisposable(vscode.commands.registerCommand(FIND_ANOMALIES, () => findAnomalies(ctx)));
  ctx.pushDisposable(vscode.commands.registerCommand(SHOW_PROCESS_TREE, () => showProcessTree(ctx)));
  ctx.pushDisposable(vscode.commands.registerCommand(DECODE_SELECTION, () => decodeSelection(ctx)));
  ResultsPanel.onDecodeCell = (value) => void decodeText(ctx, value);
  ctx.pushDisposable({ dispose: () => (ResultsPanel.onDecodeCell = undefined) });
  ctx.pushDisposable(vscode.commands.registerCommand(SHOW_ALERTS, () => showAlerts(ctx)));
}

/** Shows the SecurityAlert rows of the last result with their entities unpacked. */
function showAlerts(ctx: Ctx): void {
  const result = requireResult();
  if (result === undefined) {
    return;
  }
  const extracted = extractAlerts(result);
  if ('error' in extracted) {
    void vscode.window.showWarningMessage(extracted.error);
    return;
  }
  AnalysisPanel.show(ctx.extensionUri, {
    type: 'alerts',
    title: vscode.l10n.t('Alerts'),
    alerts: extracted.alerts,
    omitted: extracted.omitted,
  });
}

async function findAnomalies(ctx: Ctx): Promise<void> {
  const result = requireResult();
  if (result === undefined) {
    return;
  }
  const candidates = timeseriesCandidates(result.columns);
  if (candidates.time.length === 0 || candidates.value.length === 0) {
    void vscode.window.showWarningMessage(
      vscode.l10n.t(
        'Finding anomalies needs a datetime column and a numeric column in the results, such as the output of "summarize count() by bin(TimeGenerated, 1h)".',
      ),
    );
    return;
  }
  const timeColumn = await pickColumn(candidates.time, vscode.l10n.t('Column with the time of each point'));
  if (timeColumn === undefined) {
    return;
  }
  const valueColumn = await pickColumn(candidates.value, vscode.l10n.t('Column with the value of each point'));
  if (valueColumn === undefined) {
    return;
  }
  const params: AnalyzeTimeseriesParams = { columns: result.columns, rows: result.rows, timeColumn, valueColumn };
  const response = await sendAnalysis(ctx, ANALYZE_TIMESERIES_REQUEST, params);
  if (response === undefined) {
    return;
  }
  showParsed(ctx, ANALYZE_TIMESERIES_REQUEST, () => ({
    type: 'timeseries',
    title: vscode.l10n.t('Anomalies in {0}', valueColumn),
    result: parseTimeseriesResult(response),
  }));
}

async function showProcessTree(ctx: Ctx): Promise<void> {
  const result = requireResult();
  if (result === undefined) {
    return;
  }
  const response = await sendAnalysis(ctx, PROCESS_TREE_REQUEST, { columns: result.columns, rows: result.rows });
  if (response === undefined) {
    return;
  }
  showParsed(ctx, PROCESS_TREE_REQUEST, () => ({
    type: 'processTree',
    title: vscode.l10n.t('Process tree'),
    result: parseProcessTreeResult(response),
  }));
}

/** Decodes the selected text, or the line under the cursor when nothing is selected. */
async function decodeSelection(ctx: Ctx): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Select an encoded command line in an editor to decode it.'));
    return;
  }
  const selection = editor.selection;
  const text = (
    selection.isEmpty ? editor.document.lineAt(selection.active.line).text : editor.document.getText(selection)
  ).trim();
  if (text === '') {
    void vscode.window.showWarningMessage(vscode.l10n.t('Select an encoded command line in an editor to decode it.'));
    return;
  }
  await decodeText(ctx, text);
}

/** Decodes `text` (a selection or a result cell) and shows the layers in the analysis panel. */
async function decodeText(ctx: Ctx, text: string): Promise<void> {
  const response = await sendAnalysis(ctx, DECODE_REQUEST, { text });
  if (response === undefined) {
    return;
  }
  showParsed(ctx, DECODE_REQUEST, () => ({
    type: 'decode',
    title: vscode.l10n.t('Decoded command'),
    input: text,
    result: parseDecodeResult(response),
  }));
}

export function requireResult(): RunQueryResult | undefined {
  const result = ResultsPanel.latestResult();
  if (result === undefined || result.rows.length === 0) {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('Run a query first: the analysis reads the rows shown in the Quarry Results panel.'),
    );
    return undefined;
  }
  return result;
}

/** Returns the only column, or the one the user picks, or undefined when the pick is dismissed. */
export async function pickColumn(columns: string[], placeHolder: string): Promise<string | undefined> {
  if (columns.length === 1) {
    return columns[0];
  }
  return vscode.window.showQuickPick(columns, { placeHolder });
}

/** Sends an analysis request under a progress notification. Reports a failure and returns undefined. */
export async function sendAnalysis(ctx: Ctx, method: string, params: object): Promise<unknown> {
  const client = ctx.client;
  if (client === undefined) {
    void vscode.window.showErrorMessage(
      vscode.l10n.t('The Quarry server is not running. Check the Quarry output channel, then run "Quarry: Restart Server".'),
    );
    return undefined;
  }
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Quarry: running analysis'), cancellable: true },
    async (_progress, token) => {
      try {
        return await client.sendRequest(method, params, token);
      } catch (error) {
        if (token.isCancellationRequested) {
          return undefined;
        }
        ctx.log(`${method} failed: ${String(error)}`);
        const message = error instanceof ResponseError ? error.message : String(error);
        void vscode.window.showErrorMessage(vscode.l10n.t('The analysis failed: {0}', message));
        return undefined;
      }
    },
  );
}

export function showParsed(ctx: Ctx, method: string, build: () => Parameters<typeof AnalysisPanel.show>[1]): void {
  try {
    AnalysisPanel.show(ctx.extensionUri, build());
  } catch (error) {
    ctx.log(`${method}: ${String(error)}`);
    void vscode.window.showErrorMessage(
      vscode.l10n.t('The Quarry server sent a result this extension cannot read: {0}', String(error)),
    );
  }
}
