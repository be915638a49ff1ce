// "Quarry: Find Anomalous Sessions" and "Quarry: Show Timeline": two views of the rows in the
// results panel. Sessions are scored by the server's `quarry/analyzeSequences`; the timeline is
// built here and drawn by the analysis panel.

import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { pickColumn, requireResult, sendAnalysis, showParsed } from './analysis_commands';
import { ANALYZE_SEQUENCES_REQUEST, type AnalyzeSequencesParams, parseSequencesResult } from './lsp_ext_sequences';
import { AnalysisPanel } from './panels/analysis';
import { readSessionSettings } from './sessions';
import { buildTimeline, parseMarkers } from './timeline';

export const FIND_ANOMALOUS_SESSIONS = 'quarry.findAnomalousSessions';
export const SHOW_TIMELINE = 'quarry.showTimeline';

export function registerHuntViews(ctx: Ctx): void {
  ctx.pushDisposable(vscode.commands.registerCommand(FIND_ANOMALOUS_SESSIONS, () => findAnomalousSessions(ctx)));
  ctx.pushDisposable(vscode.commands.registerCommand(SHOW_TIMELINE, () => showTimeline(ctx)));
}

async function findAnomalousSessions(ctx: Ctx): Promise<void> {
  const result = requireResult();
  if (result === undefined) {
    return;
  }

  const names = result.columns.map((column) => column.name);
  const times = result.columns.filter((column) => column.type === 'datetime').map((column) => column.name);
  const timeColumn = await pickColumn(times.length > 0 ? times : names, vscode.l10n.t('Column with the time of each event'));
  if (timeColumn === undefined) {
    return;
  }
  const users = await vscode.window.showQuickPick(
    names.filter((name) => name !== timeColumn),
    { canPickMany: true, placeHolder: vscode.l10n.t('Columns that identify a user, such as UserId and ClientIP') },
  );
  if (users === undefined || users.length === 0) {
    return;
  }
  const eventColumn = await pickColumn(
    names.filter((name) => name !== timeColumn && !users.includes(name)),
    vscode.l10n.t('Column with the command or operation of each event'),
  );
  if (eventColumn === undefined) {
    return;
  }

  const section = vscode.workspace.getConfiguration('quarry.sessions');
  const { settings, problems } = readSessionSettings((key) => section.get(key));
  for (const problem of problems) {
    void vscode.window.showWarningMessage(problem);
  }

  const params: AnalyzeSequencesParams = {
    columns: result.columns,
    rows: result.rows,
    timeColumn,
    userColumns: users,
    eventColumn,
    ...settings,
  };
  const response = await sendAnalysis(ctx, ANALYZE_SEQUENCES_REQUEST, params);
  if (response === undefined) {
    return;
  }
  showParsed(ctx, ANALYZE_SEQUENCES_REQUEST, () => ({
    type: 'sessions',
    title: vscode.l10n.t(
      'Anomalous sessions of {0} (window {1}, sessions up to {2} min, gaps up to {3} min)',
      eventColumn,
      settings.window,
      settings.maxSessionMinutes,
      settings.maxGapMinutes,
    ),
    result: parseSequencesResult(response),
  }));
}

async function showTimeline(ctx: Ctx): Promise<void> {
  const result = requireResult();
  if (result === undefined) {
    return;
  }
  const times = result.columns.filter((column) => column.type === 'datetime').map((column) => column.name);
  if (times.length === 0) {
    void vscode.window.showWarningMessage(vscode.l10n.t('The timeline needs a datetime column in the results, such as TimeGenerated.'));
    return;
  }
  const timeColumn = await pickColumn(times, vscode.l10n.t('Column with the time of each event'));
  if (timeColumn === undefined) {
    return;
  }

  const none = vscode.l10n.t('(one series)');
  const group = await vscode.window.showQuickPick(
    [none, ...result.columns.map((column) => column.name).filter((name) => name !== timeColumn)],
    { placeHolder: vscode.l10n.t('Column to group the events by: one series per value') },
  );
  if (group === undefined) {
    return;
  }

  const markerText = await vscode.window.showInputBox({
    prompt: vscode.l10n.t('Reference markers (optional): ISO-8601 times separated by commas, each optionally followed by =label'),
    placeHolder: '2024-05-01T10:00:00Z=first alert, 2024-05-01T12:30:00Z',
    validateInput: (text) => {
      const parsed = parseMarkers(text);
      return 'error' in parsed
        ? vscode.l10n.t('{0} is not an ISO-8601 time such as 2024-05-01T10:00:00Z.', parsed.error)
        : undefined;
    },
  });
  if (markerText === undefined) {
    return;
  }
  const markers = parseMarkers(markerText);
  if ('error' in markers) {
    return;
  }

  try {
    const timeline = buildTimeline(result, timeColumn, group === none ? null : group, markers);
    AnalysisPanel.show(ctx.extensionUri, { type: 'timeline', title: vscode.l10n.t('Timeline of {0}', timeColumn), timeline });
  } catch (error) {
    void vscode.window.showErrorMessage(vscode.l10n.t('The timeline could not be built: {0}', String(error)));
  }
}
