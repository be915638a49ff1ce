// VS Code commands behind the server's indicator code actions and pivot pipelines. The client
// leaves out the generic executeCommand feature (see client.ts), so these handlers forward
// each command to the server with `workspace/executeCommand` and open the result in a new
// editor. Results are shown as plain text documents, never as HTML, because they carry
// provider and log data.

import * as vscode from 'vscode';
import { ExecuteCommandRequest } from 'vscode-languageclient/node';
import type { Ctx } from './ctx';

export const LOOKUP_INDICATOR = 'quarry.lookupIndicator';
export const GEOIP = 'quarry.geoip';
export const WHOIS = 'quarry.whois';
export const PIVOT = 'quarry.pivot';
export const RUN_PIVOT_PIPELINE = 'quarry.runPivotPipeline';

export function registerIndicatorActions(ctx: Ctx): void {
  for (const command of [LOOKUP_INDICATOR, GEOIP, WHOIS, PIVOT]) {
    ctx.pushDisposable(
      vscode.commands.registerCommand(command, (argument: unknown) => forward(ctx, command, argument)),
    );
  }
  ctx.pushDisposable(
    vscode.commands.registerCommand(RUN_PIVOT_PIPELINE, (argument: unknown) => runPipeline(ctx, argument)),
  );
}

/** Runs the pipeline in `argument`, or the active editor's YAML file when there is none. */
async function runPipeline(ctx: Ctx, argument: unknown): Promise<void> {
  if (argument !== undefined) {
    await forward(ctx, RUN_PIVOT_PIPELINE, argument);
    return;
  }
  const document = vscode.window.activeTextEditor?.document;
  if (document === undefined || document.languageId !== 'yaml') {
    void vscode.window.showWarningMessage(vscode.l10n.t('Open a pivot pipeline YAML file to run it.'));
    return;
  }
  await forward(ctx, RUN_PIVOT_PIPELINE, { text: document.getText() });
}

async function forward(ctx: Ctx, command: string, argument: unknown): Promise<void> {
  const client = ctx.client;
  if (client === undefined) {
    void vscode.window.showErrorMessage(
      vscode.l10n.t('The Quarry server is not running. Check the Quarry output channel, then run "Quarry: Restart Server".'),
    );
    return;
  }
  let response: unknown;
  try {
    response = await client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: argument === undefined ? [] : [argument],
    });
  } catch (error) {
    ctx.log(`${command} failed: ${String(error)}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('{0} failed: {1}', command, errorMessage(error)));
    return;
  }
  const document = await vscode.workspace.openTextDocument(resultDocument(command, response));
  await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true });
}

/** Returns the text document for a command result: the hover Markdown of a lookup, JSON otherwise. */
export function resultDocument(command: string, response: unknown): { language: string; content: string } {
  if (command === LOOKUP_INDICATOR && typeof response === 'object' && response !== null) {
    const markdown = (response as { markdown?: unknown }).markdown;
    if (typeof markdown === 'string') {
      return { language: 'markdown', content: markdown };
    }
  }
  return { language: 'json', content: `${JSON.stringify(response, null, 2)}\n` };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
