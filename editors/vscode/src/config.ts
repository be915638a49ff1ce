// Reads the `quarry.*` settings that package.json declares.

import * as vscode from 'vscode';
import type { ConfigurationSettings, InitializationOptions } from './lsp_ext';
import { resolveUserPath } from './server_binary';
import { DEFAULT_TIME_RANGE, isTimeRangePreset, type TimeRangePreset } from './time_range';

export const DEFAULT_MAX_ROWS = 10_000;

export interface Config {
  /** `quarry.server.path` as written, or null when unset. */
  serverPath: string | null;
  /** `quarry.data.folder` resolved against the workspace, or null for the demo dataset. */
  dataFolder: string | null;
  /** `quarry.data.connection`: the connection that runs use, or null for a local run. */
  connection: string | null;
  /** `quarry.run.maxRows`, a positive integer. */
  maxRows: number;
  /** `quarry.run.timeRange`: the window that each run sends to the server. */
  timeRange: TimeRangePreset;
  /** `quarry.templates.folders`, each resolved against the workspace; empty entries dropped. */
  templateFolders: string[];
}

export function readConfig(): Config {
  const section = vscode.workspace.getConfiguration('quarry');
  const workspaceFolder = firstWorkspaceFolder();

  const serverPath = nonEmpty(section.get<string | null>('server.path'));
  const rawFolder = nonEmpty(section.get<string | null>('data.folder'));
  const dataFolder = rawFolder === null ? null : resolveUserPath(rawFolder, workspaceFolder);
  const connection = nonEmpty(section.get<string | null>('data.connection'));
  const rawMaxRows = section.get<number>('run.maxRows', DEFAULT_MAX_ROWS);
  const maxRows =
    Number.isInteger(rawMaxRows) && rawMaxRows > 0 ? rawMaxRows : DEFAULT_MAX_ROWS;

  const rawTimeRange = section.get<string>('run.timeRange', DEFAULT_TIME_RANGE);
  const timeRange = isTimeRangePreset(rawTimeRange) ? rawTimeRange : DEFAULT_TIME_RANGE;

  const rawTemplateFolders = section.get<unknown>('templates.folders', []);
  const templateFolders = (Array.isArray(rawTemplateFolders) ? rawTemplateFolders : [])
    .map((folder) => nonEmpty(typeof folder === 'string' ? folder : null))
    .filter((folder): folder is string => folder !== null)
    .map((folder) => resolveUserPath(folder, workspaceFolder));

  return { serverPath, dataFolder, connection, maxRows, timeRange, templateFolders };
}

/** Returns the filesystem path of the first workspace folder, if it is on disk. */
export function firstWorkspaceFolder(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
}

export function initializationOptions(config: Config): InitializationOptions {
  return {
    dataFolder: config.dataFolder,
    maxRows: config.maxRows,
    templateFolders: config.templateFolders,
  };
}

export function configurationSettings(config: Config): ConfigurationSettings {
  return {
    quarry: {
      data: { folder: config.dataFolder },
      run: { maxRows: config.maxRows },
      templates: { folders: config.templateFolders },
    },
  };
}

function nonEmpty(value: string | null | undefined): string | null {
  if (typeof value !== 'string') {
    return null;
  }
  const trimmed = value.trim();
  return trimmed.length > 0 ? trimmed : null;
}
