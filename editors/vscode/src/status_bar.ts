// Status bar items of KQL editors: the data source that runs read (the demo dataset or a folder)
// and the time range sent with each run. Both pickers write the settings, so a choice survives
// a reload and shows in the Settings editor.

import * as path from 'path';
import * as vscode from 'vscode';
import { readConfig } from './config';
import type { Ctx } from './ctx';
import { TIME_RANGE_PRESETS, type TimeRangePreset } from './time_range';

const PICK_DATA_SOURCE = 'quarry.pickDataSource';
const PICK_TIME_RANGE = 'quarry.pickTimeRange';

function timeRangeLabel(preset: TimeRangePreset): string {
  switch (preset) {
    case 'all':
      return vscode.l10n.t('All time');
    case '1h':
      return vscode.l10n.t('Last hour');
    case '24h':
      return vscode.l10n.t('Last 24 hours');
    case '7d':
      return vscode.l10n.t('Last 7 days');
    case '30d':
      return vscode.l10n.t('Last 30 days');
  }
}

/** Settings target: the workspace when one is open, else the user settings. */
function settingsTarget(): vscode.ConfigurationTarget {
  return vscode.workspace.workspaceFolders === undefined
    ? vscode.ConfigurationTarget.Global
    : vscode.ConfigurationTarget.Workspace;
}

export function registerStatusBar(ctx: Ctx): void {
  const dataSource = vscode.window.createStatusBarItem('quarry.dataSource', vscode.StatusBarAlignment.Left, 10);
  dataSource.name = vscode.l10n.t('Quarry Data Source');
  dataSource.command = PICK_DATA_SOURCE;
  const timeRange = vscode.window.createStatusBarItem('quarry.timeRange', vscode.StatusBarAlignment.Left, 9);
  timeRange.name = vscode.l10n.t('Quarry Time Range');
  timeRange.command = PICK_TIME_RANGE;
  ctx.pushDisposable(dataSource);
  ctx.pushDisposable(timeRange);

  const update = () => {
    const config = readConfig();
    if (config.dataFolder === null) {
      dataSource.text = vscode.l10n.t('$(beaker) Demo data');
      dataSource.tooltip = vscode.l10n.t('Queries run on the built-in demo dataset. Click to choose a folder.');
    } else {
      dataSource.text = `$(folder) ${path.basename(config.dataFolder)}`;
      dataSource.tooltip = vscode.l10n.t('Queries run on the files in {0}. Click to change.', config.dataFolder);
    }
    timeRange.text = `$(clock) ${timeRangeLabel(config.timeRange)}`;
    timeRange.tooltip = vscode.l10n.t('Time range sent with each run. Click to change.');

    const visible = vscode.window.activeTextEditor?.document.languageId === 'kql';
    for (const item of [dataSource, timeRange]) {
      if (visible) {
        item.show();
      } else {
        item.hide();
      }
    }
  };

  ctx.pushDisposable(vscode.window.onDidChangeActiveTextEditor(update));
  ctx.pushDisposable(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('quarry')) {
        update();
      }
    }),
  );
  ctx.pushDisposable(vscode.commands.registerCommand(PICK_DATA_SOURCE, () => pickDataSource()));
  ctx.pushDisposable(vscode.commands.registerCommand(PICK_TIME_RANGE, () => pickTimeRange()));
  update();
}

async function pickDataSource(): Promise<void> {
  const current = readConfig().dataFolder;
  type Item = vscode.QuickPickItem & { folder: string | null | 'choose' };
  const items: Item[] = [
    {
      label: vscode.l10n.t('$(beaker) Demo dataset'),
      description: current === null ? vscode.l10n.t('current') : undefined,
      detail: vscode.l10n.t('Built-in tables such as SecurityEvent and SigninLogs'),
      folder: null,
    },
  ];
  if (current !== null) {
    items.push({ label: `$(folder) ${current}`, description: vscode.l10n.t('current'), folder: current });
  }
  items.push({
    label: vscode.l10n.t('$(folder-opened) Choose a folder…'),
    detail: vscode.l10n.t('CSV, TSV, JSON-lines and Parquet files, one table per file'),
    folder: 'choose',
  });

  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Quarry: Data Source'),
    placeHolder: vscode.l10n.t('Where should queries read their tables?'),
  });
  if (picked === undefined) {
    return;
  }
  let folder = picked.folder;
  if (folder === 'choose') {
    const chosen = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      openLabel: vscode.l10n.t('Use Folder'),
    });
    if (chosen === undefined || chosen.length === 0) {
      return;
    }
    folder = chosen[0].fsPath;
  }
  await vscode.workspace
    .getConfiguration('quarry')
    .update('data.folder', folder ?? '', settingsTarget());
}

async function pickTimeRange(): Promise<void> {
  const current = readConfig().timeRange;
  const items = TIME_RANGE_PRESETS.map((preset) => ({
    label: timeRangeLabel(preset),
    description: preset === current ? vscode.l10n.t('current') : undefined,
    preset,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Quarry: Time Range'),
    placeHolder: vscode.l10n.t('Which time range should queries cover?'),
  });
  if (picked !== undefined) {
    await vscode.workspace.getConfiguration('quarry').update('run.timeRange', picked.preset, settingsTarget());
  }
}
