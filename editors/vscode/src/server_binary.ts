// Locates the `quarry` executable that the language client starts. No `vscode` import, so unit
// tests run it in plain Node on real temporary files.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The origin of a found binary, in search order. */
export type ServerSource = 'setting' | 'path' | 'bundled';

export type ServerLookup =
  | { kind: 'found'; path: string; source: ServerSource }
  /** `quarry.server.path` is set but names no executable file. The search stops there. */
  | { kind: 'invalidSetting'; configuredPath: string; resolvedPath: string }
  | { kind: 'notFound'; searched: string[] };

export interface ServerLookupInput {
  /** Value of `quarry.server.path`; empty or null means unset. */
  configuredPath: string | null;
  /** First workspace folder, used to resolve `${workspaceFolder}` and relative settings. */
  workspaceFolder: string | undefined;
  /** Root of the installed extension; a bundled build lives in `server/` under it. */
  extensionPath: string;
  /** Value of the PATH environment variable. */
  envPath: string | undefined;
  platform: NodeJS.Platform;
  /** Value of PATHEXT, used on Windows only. */
  envPathExt?: string | undefined;
}

/**
 * Finds the server binary: the `quarry.server.path` setting, then each PATH directory, then the
 * build bundled with the extension (`server/quarry`). An explicit setting that names no
 * executable is reported as is, because falling back would hide the user's mistake.
 */
export function findServerBinary(input: ServerLookupInput): ServerLookup {
  const configured = input.configuredPath?.trim();
  if (configured) {
    const resolvedPath = resolveUserPath(configured, input.workspaceFolder);
    if (isExecutableFile(resolvedPath, input.platform)) {
      return { kind: 'found', path: resolvedPath, source: 'setting' };
    }
    return { kind: 'invalidSetting', configuredPath: configured, resolvedPath };
  }

  const searched: string[] = [];
  const names = executableNames('quarry', input.platform, input.envPathExt);
  for (const directory of splitPath(input.envPath, input.platform)) {
    for (const name of names) {
      const candidate = path.join(directory, name);
      searched.push(candidate);
      if (isExecutableFile(candidate, input.platform)) {
        return { kind: 'found', path: candidate, source: 'path' };
      }
    }
  }

  const bundledName = input.platform === 'win32' ? 'quarry.exe' : 'quarry';
  const bundled = path.join(input.extensionPath, 'server', bundledName);
  searched.push(bundled);
  if (isExecutableFile(bundled, input.platform)) {
    return { kind: 'found', path: bundled, source: 'bundled' };
  }
  return { kind: 'notFound', searched };
}

/**
 * Expands `~` and `${workspaceFolder}` in a path from the settings and resolves a relative
 * result against the workspace folder. Without a workspace folder a relative path stays relative.
 */
export function resolveUserPath(value: string, workspaceFolder: string | undefined): string {
  let expanded = value;
  if (expanded === '~' || expanded.startsWith('~/') || expanded.startsWith('~\\')) {
    expanded = path.join(os.homedir(), expanded.slice(1));
  }
  if (workspaceFolder !== undefined) {
    expanded = expanded.split('${workspaceFolder}').join(workspaceFolder);
    if (!path.isAbsolute(expanded)) {
      expanded = path.resolve(workspaceFolder, expanded);
    }
  }
  return expanded;
}

function splitPath(envPath: string | undefined, platform: NodeJS.Platform): string[] {
  if (!envPath) {
    return [];
  }
  const delimiter = platform === 'win32' ? ';' : ':';
  return envPath.split(delimiter).filter((directory) => directory.length > 0);
}

function executableNames(
  base: string,
  platform: NodeJS.Platform,
  envPathExt: string | undefined,
): string[] {
  if (platform !== 'win32') {
    return [base];
  }
  const extensions = (envPathExt ?? '.EXE;.CMD;.BAT')
    .split(';')
    .filter((extension) => extension.length > 0);
  return extensions.map((extension) => base + extension.toLowerCase());
}

function isExecutableFile(candidate: string, platform: NodeJS.Platform): boolean {
  try {
    if (!fs.statSync(candidate).isFile()) {
      return false;
    }
    // NOTE: Windows has no execute bit, so any existing file with a PATHEXT extension counts.
    if (platform !== 'win32') {
      fs.accessSync(candidate, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}
