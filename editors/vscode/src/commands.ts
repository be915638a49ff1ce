// Commands contributed in package.json, registered in `registerCommands`.

import * as vscode from 'vscode';
import { ExecuteCommandRequest, ResponseError } from 'vscode-languageclient/node';
import type { Ctx } from './ctx';
import {
  buildRunQueryArgs,
  InvalidResponseError,
  parseRunQueryErrorData,
  parseRunQueryResult,
  RUN_QUERY_COMMAND,
} from './lsp_ext';
import { type ErrorTarget, ResultsPanel } from './panels/results';

/** Cancellation of the run whose outcome the results panel waits for. */
let currentRun: vscode.CancellationTokenSource | undefined;

export function registerCommands(ctx: Ctx): void {
  ctx.pushDisposable(vscode.commands.registerCommand('quarry.runQuery', () => runQuery(ctx)));
  ctx.pushDisposable(
    vscode.commands.registerCommand('quarry.restartServer', async () => {
      ctx.log('restart requested');
      await ctx.restart();
    }),
  );
}

/**
 * Runs the query block under the cursor, or the selection when it is non-empty, through the
 * server's `quarry.runQuery` command, and shows the outcome in the results panel.
 */
async function runQuery(ctx: Ctx): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || editor.document.languageId !== 'kql') {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('Open a KQL file (.kql, .csl or .kusto) to run a query.'),
    );
    return;
  }
  const client = ctx.client;
  if (client === undefined) {
    void vscode.window.showErrorMessage(
      vscode.l10n.t('The Quarry server is not running. Check the Quarry output channel, then run "Quarry: Restart Server".'),
    );
    return;
  }

  const document = editor.document;
  const selection = editor.selection;
  const args = buildRunQueryArgs(document.uri.toString(), {
    start: selection.start,
    end: selection.end,
    active: selection.active,
  });

  // The panel shows one run at a time, so a new run cancels the one still in flight.
  currentRun?.cancel();
  const run = new vscode.CancellationTokenSource();
  currentRun = run;
  const token = run.token;

  const panel = ResultsPanel.createOrShow(ctx.extensionUri);
  panel.showRunning();

  try {
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: vscode.l10n.t('Quarry: running query'),
        cancellable: true,
      },
      async (_progress, progressToken) => {
        progressToken.onCancellationRequested(() => run.cancel());
        try {
          const response: unknown = await client.sendRequest(
            ExecuteCommandRequest.type,
            { command: RUN_QUERY_COMMAND, arguments: [args] },
            token,
          );
          if (currentRun !== run) {
            return;
          }
          if (token.isCancellationRequested) {
            panel.showError(vscode.l10n.t('The query was cancelled.'), undefined);
            return;
          }
          panel.showResult(parseRunQueryResult(response));
        } catch (error) {
          ctx.log(`quarry.runQuery failed: ${String(error)}`);
          if (currentRun === run) {
            panel.showError(...describeRunError(error, document.uri, token));
          }
        }
      },
    );
  } finally {
    if (currentRun === run) {
      currentRun = undefined;
    }
    run.dispose();
  }
}

function describeRunError(
  error: unknown,
  uri: vscode.Uri,
  token: vscode.CancellationToken,
): [message: string, target: ErrorTarget | undefined] {
  if (token.isCancellationRequested) {
    return [vscode.l10n.t('The query was cancelled.'), undefined];
  }
  if (error instanceof ResponseError) {
    const data = parseRunQueryErrorData(error.data);
    return [error.message, data === undefined ? undefined : { uri, range: data.range }];
  }
  if (error instanceof InvalidResponseError) {
    return [
      vscode.l10n.t('The Quarry server sent a result this extension cannot read: {0}', error.message),
      undefined,
    ];
  }
  return [String(error), undefined];
}
