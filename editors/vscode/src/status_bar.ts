// Status bar items of KQL editors: the data source that runs read (the demo dataset, a folder or
// a connection from the server's `quarry/listConnections`) and the time range sent with each run. Both pickers write the settings, so a choice survives
// a reload and shows in the Settings editor.

import * as path from 'path';
import * as vscode from 'vscode';
import { RequestType0 } from 'vscode-languageclient/node';
import { readConfig } from './config';
import type { Ctx } from './ctx';
import { buildConnectionItems } from './data_source';
import { type ConnectionInfo, LIST_CONNECTIONS_REQUEST, parseListConnectionsResult } from './lsp_ext';
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
    if (config.connection !== null) {
      dataSource.text = `$(cloud) ${config.connection}`;
      dataSource.tooltip = vscode.l10n.t('Queries run on the connection {0}. Click to change.', config.connection);
    } else if (config.dataFolder === null) {
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
  ctx.pushDisposable(vscode.commands.registerCommand(PICK_DATA_SOURCE, () => pickDataSource(ctx)));
  ctx.pushDisposable(vscode.commands.registerCommand(PICK_TIME_RANGE, () => pickTimeRange()));
  update();
}

/**
 * Returns the server's configured connections, or an empty list (logged) when the server is not
 * running or the request fails, so the picker still offers the local sources.
 */
async function listConnections(ctx: Ctx): Promise<ConnectionInfo[]> {
  const client = ctx.client;
  if (client === undefined) {
    return [];
  }
  try {
    const list = parseListConnectionsResult(await client.sendRequest(LIST_CONNECTIONS));
    for (const problem of list.problems) {
      ctx.log(`connection configuration: ${problem}`);
    }
    return list.connections;
  } catch (error) {
    ctx.log(`${LIST_CONNECTIONS_REQUEST} failed: ${String(error)}`);
    return [];
  }
}

// A request without params: `sendRequest(method, null)` would send `params: [null]`, which the
// server rejects.
const LIST_CONNECTIONS = new RequestType0<unknown, void>(LIST_CONNECTIONS_REQUEST);

type DataSourceItem = vscode.QuickPickItem & {
  source?: { folder: string | null | 'choose' } | { connection: string };
};

async function pickDataSource(ctx: Ctx): Promise<void> {
  const config = readConfig();
  const local = config.connection === null;
  const current = config.dataFolder;
  const items: DataSourceItem[] = [
    {
      label: vscode.l10n.t('$(beaker) Demo dataset'),
      description: local && current === null ? vscode.l10n.t('current') : undefined,
      detail: vscode.l10n.t('Built-in tables such as SecurityEvent and SigninLogs'),
      source: { folder: null },
    },
  ];
  if (current !== null) {
    items.push({
      label: `$(folder) ${current}`,
      description: local ? vscode.l10n.t('current') : undefined,
      source: { folder: current },
    });
  }
  items.push({
    label: vscode.l10n.t('$(folder-opened) Choose a folder…'),
    detail: vscode.l10n.t('CSV, TSV, JSON-lines and Parquet files, one table per file'),
    source: { folder: 'choose' },
  });

  const connections = await listConnections(ctx);
  if (connections.length > 0) {
    items.push({ label: vscode.l10n.t('Connections'), kind: vscode.QuickPickItemKind.Separator });
    for (const item of buildConnectionItems(connections, config.connection, vscode.l10n.t)) {
      items.push({
        label: item.label,
        description: item.description,
        detail: item.detail,
        source: { connection: item.connection },
      });
    }
  }

  const picked = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('Quarry: Data Source'),
    placeHolder: vscode.l10n.t('Where should queries read their tables?'),
  });
  if (picked?.source === undefined) {
    return;
  }
  const settings = vscode.workspace.getConfiguration('quarry');
  if ('connection' in picked.source) {
    await settings.update('data.connection', picked.source.connection, settingsTarget());
    return;
  }
  let folder = picked.source.folder;
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
  await settings.update('data.connection', '', settingsTarget());
  await settings.update('data.folder', folder ?? '', settingsTarget());
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
