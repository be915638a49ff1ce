// "Quarry: Pivot on Selection": lists the templates that take the indicator under the cursor
// (or the selected text) as input, renders the one the user picks with that value, and opens
// the query in a new KQL editor.

import * as vscode from 'vscode';
import { ExecuteCommandRequest } from 'vscode-languageclient/node';
import type { Ctx } from './ctx';
import { PIVOT_COMMAND, PIVOTS_REQUEST, parsePivotsResult, parseRenderTemplateResult } from './lsp_ext_library';
import { AnalysisPanel } from './panels/analysis';
import { ResultsPanel } from './panels/results';

export const PIVOT_ON_SELECTION = 'quarry.pivotOnSelection';

export function registerPivot(ctx: Ctx): void {
  ctx.pushDisposable(vscode.commands.registerCommand(PIVOT_ON_SELECTION, () => pivotOnSelection(ctx)));
  AnalysisPanel.onPivot = (entity, value) => void pivot(ctx, { value, entity });
  // The server detects the cell value's entity type, as for a selection.
  ResultsPanel.onPivotCell = (value) => void pivot(ctx, { value: value.trim() });
  ctx.pushDisposable({
    dispose: () => {
      AnalysisPanel.onPivot = undefined;
      ResultsPanel.onPivotCell = undefined;
    },
  });
}

/** `quarry/pivots` params: a value with an optional entity type, or a place in a document. */
type PivotsParams = { value: string; entity?: string } | { uri: string; position: { line: number; character: number } };

async function pivotOnSelection(ctx: Ctx): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const client = ctx.client;
  if (editor === undefined || client === undefined) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Select an IP address, host, account, URL, domain or hash in a KQL editor to pivot on it.'));
    return;
  }
  const selection = editor.selection;
  const params: PivotsParams = selection.isEmpty
    ? {
        uri: editor.document.uri.toString(),
        position: { line: selection.active.line, character: selection.active.character },
      }
    : { value: editor.document.getText(selection).trim() };
  await pivot(ctx, params);
}

/** Lists the pivots for `params`, lets the user pick one, and opens the rendered query. */
async function pivot(ctx: Ctx, params: PivotsParams): Promise<void> {
  const client = ctx.client;
  if (client === undefined) {
    void vscode.window.showErrorMessage(
      vscode.l10n.t('The Quarry server is not running. Check the Quarry output channel, then run "Quarry: Restart Server".'),
    );
    return;
  }
  let pivots;
  try {
    pivots = parsePivotsResult(await client.sendRequest(PIVOTS_REQUEST, params));
  } catch (error) {
    ctx.log(`${PIVOTS_REQUEST} failed: ${String(error)}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('Listing pivots failed: {0}', errorMessage(error)));
    return;
  }
  if (pivots === null) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No indicator under the cursor. Select the value to pivot on.'));
    return;
  }
  if (pivots.pivots.length === 0) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('No template takes the {0} {1} as input.', pivots.entity, pivots.value),
    );
    return;
  }

  const picked = await vscode.window.showQuickPick(
    pivots.pivots.map((pivot) => ({ label: pivot.template, detail: pivot.description, pivot })),
    // ignoreFocusOut: after a click in the alerts webview, the webview can take the focus
    // back and would close the pick at once.
    {
      placeHolder: vscode.l10n.t('Pivot on {0} {1}', pivots.entity, pivots.value),
      matchOnDetail: true,
      ignoreFocusOut: true,
    },
  );
  if (picked === undefined) {
    return;
  }
  try {
    const response: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
      command: PIVOT_COMMAND,
      arguments: [{ template: picked.pivot.template, value: pivots.value, entity: pivots.entity, parameter: picked.pivot.parameter }],
    });
    const { query } = parseRenderTemplateResult(response);
    const document = await vscode.workspace.openTextDocument({ language: 'kql', content: `${query.trim()}\n` });
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Active });
  } catch (error) {
    ctx.log(`${PIVOT_COMMAND} with ${picked.pivot.template} failed: ${String(error)}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('The pivot failed: {0}', errorMessage(error)));
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
