// Commands contributed in package.json, registered in `registerCommands`.

import * as vscode from 'vscode';
import { ExecuteCommandRequest, ResponseError } from 'vscode-languageclient/node';
import type { Ctx } from './ctx';
import { readConfig } from './config';
import {
  InvalidResponseError,
  parseRunQueryErrorData,
  parseRunQueryResult,
  type Position,
  type RenderHint,
  RUN_QUERY_COMMAND,
  type RunQueryArgs,
} from './lsp_ext';
import { type ErrorTarget, ResultsPanel } from './panels/results';
import { queryBlockAt } from './query_blocks';
import { splitRenderOperator } from './render_operator';
import { applyConnection } from './data_source';
import { timeRangeFor } from './time_range';

/** Cancellation of the run whose outcome the results panel waits for. */
let currentRun: vscode.CancellationTokenSource | undefined;

export function registerCommands(ctx: Ctx): void {
  ctx.pushDisposable(vscode.commands.registerCommand('quarry.runQuery', () => runFromEditor(ctx, false)));
  ctx.pushDisposable(vscode.commands.registerCommand('quarry.runSelection', () => runFromEditor(ctx, true)));
  ctx.pushDisposable(
    vscode.commands.registerCommand('quarry.runBlock', async (uri: unknown, position: unknown) => {
      if (!(uri instanceof vscode.Uri) || !(position instanceof vscode.Position)) {
        ctx.log('quarry.runBlock needs a document URI and a position');
        return;
      }
      const document = await vscode.workspace.openTextDocument(uri);
      await runQuery(ctx, document, { position });
    }),
  );
  ctx.pushDisposable(
    vscode.commands.registerCommand('quarry.restartServer', async () => {
      ctx.log('restart requested');
      await ctx.restart();
    }),
  );
}

/** Target of a run in a document: the block at a position, or a range of text. */
export type RunTarget = { position: vscode.Position } | { range: vscode.Range };

/**
 * Runs the query block under the cursor, or the selection when it is non-empty. With
 * `selectionOnly`, an empty selection is reported instead of running the block.
 */
async function runFromEditor(ctx: Ctx, selectionOnly: boolean): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || editor.document.languageId !== 'kql') {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('Open a KQL file (.kql, .csl or .kusto) to run a query.'),
    );
    return;
  }
  const selection = editor.selection;
  if (selection.isEmpty && selectionOnly) {
    void vscode.window.showWarningMessage(vscode.l10n.t('Select the query text to run first.'));
    return;
  }
  const target: RunTarget = selection.isEmpty
    ? { position: selection.active }
    : { range: new vscode.Range(selection.start, selection.end) };
  await runQuery(ctx, editor.document, target);
}

/**
 * Builds the `quarry.runQuery` argument for `target`. When the text ends in a `render`
 * operator, the argument covers the text before it, because the local engine does not run
 * `render`, and the render hint is returned for the results panel.
 */
async function prepareRun(
  ctx: Ctx,
  document: vscode.TextDocument,
  target: RunTarget,
): Promise<{ args: RunQueryArgs; render: RenderHint | undefined }> {
  const uri = document.uri.toString();
  let range = 'range' in target ? target.range : undefined;
  if (range === undefined && 'position' in target) {
    try {
      range = await queryBlockAt(document, target.position);
    } catch (error) {
      ctx.log(`finding the query block failed: ${String(error)}`);
    }
  }

  const split = range === undefined ? undefined : splitRenderOperator(document.getText(range));
  if (range !== undefined && split !== undefined) {
    const end = document.positionAt(document.offsetAt(range.start) + split.queryLength);
    return {
      args: { uri, range: { start: toPosition(range.start), end: toPosition(end) } },
      render: split.render,
    };
  }
  if ('range' in target) {
    return { args: { uri, range: { start: toPosition(target.range.start), end: toPosition(target.range.end) } }, render: undefined };
  }
  return { args: { uri, position: toPosition(target.position) }, render: undefined };
}

function toPosition(position: vscode.Position): Position {
  return { line: position.line, character: position.character };
}

/** Runs `target` through the server's `quarry.runQuery` command and shows the outcome. */
export async function runQuery(ctx: Ctx, document: vscode.TextDocument, target: RunTarget): Promise<void> {
  const client = ctx.client;
  if (client === undefined) {
    void vscode.window.showErrorMessage(
      vscode.l10n.t('The Quarry server is not running. Check the Quarry output channel, then run "Quarry: Restart Server".'),
    );
    return;
  }

  // The panel shows one run at a time, so a new run cancels the one still in flight.
  currentRun?.cancel();
  const run = new vscode.CancellationTokenSource();
  currentRun = run;
  const token = run.token;

  const panel = ResultsPanel.createOrShow(ctx.extensionUri);
  panel.showRunning();

  try {
    const { args, render } = await prepareRun(ctx, document, target);
    const config = readConfig();
    const timeRange = timeRangeFor(config.timeRange, new Date());
    if (timeRange !== undefined) {
      args.timeRange = timeRange;
    }
    applyConnection(args, config.connection);
    // Cancel in this notification cancels `token`, and the language client then sends
    // $/cancelRequest for the command's request id. The server's own work-done progress for a
    // remote run shows in the status bar and is not cancellable.
    await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title:
          config.connection === null
            ? vscode.l10n.t('Quarry: running query')
            : vscode.l10n.t('Quarry: running query on {0}', config.connection),
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
          const result = parseRunQueryResult(response);
          // A render hint from the server wins over the one read from the query text.
          if (result.render === undefined && render !== undefined) {
            result.render = render;
          }
          panel.showResult(result);
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
