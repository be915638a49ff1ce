// "Quarry: Enrich Selection" and the Enrich action on a result cell: sends the text to the
// server's `quarry/enrich` and shows the address type, GeoIP location, world map and
// threat-intelligence verdicts of each indicator in it in the analysis panel.

import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { sendAnalysis, showParsed } from './analysis_commands';
import { ENRICH_REQUEST, type EnrichParams, parseEnrichResult } from './lsp_ext_enrich';
import { ResultsPanel } from './panels/results';

export const ENRICH_SELECTION = 'quarry.enrichSelection';

export function registerEnrich(ctx: Ctx): void {
  ctx.pushDisposable(vscode.commands.registerCommand(ENRICH_SELECTION, () => enrichSelection(ctx)));
  ResultsPanel.onEnrichCell = (value) => void enrich(ctx, value);
  ctx.pushDisposable({ dispose: () => (ResultsPanel.onEnrichCell = undefined) });
}

/** Enriches the selected text, or the line under the cursor when nothing is selected. */
async function enrichSelection(ctx: Ctx): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const text =
    editor === undefined
      ? ''
      : editor.selection.isEmpty
        ? editor.document.lineAt(editor.selection.active.line).text
        : editor.document.getText(editor.selection);
  if (text.trim() === '') {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('Select text with IP addresses, domains, URLs, hashes or e-mail addresses to enrich them.'),
    );
    return;
  }
  await enrich(ctx, text);
}

async function enrich(ctx: Ctx, text: string): Promise<void> {
  const params: EnrichParams = { text };
  const response = await sendAnalysis(ctx, ENRICH_REQUEST, params);
  if (response === undefined) {
    return;
  }
  let count = 0;
  showParsed(ctx, ENRICH_REQUEST, () => {
    const result = parseEnrichResult(response);
    count = result.indicators.length;
    return { type: 'enrichment', title: vscode.l10n.t('Enrichment'), result };
  });
  if (count === 0) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('No IP address, domain, URL, hash or e-mail address found in the text.'),
    );
  }
}
