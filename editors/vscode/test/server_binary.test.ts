import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { findServerBinary, resolveUserPath } from '../src/server_binary';

/** Creates a file, executable unless `mode` says otherwise, and returns its path. */
function writeFile(file: string, mode = 0o755): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '#!/bin/sh\n');
  fs.chmodSync(file, mode);
  return file;
}

describe('findServerBinary', () => {
  let root: string;
  let extensionPath: string;
  let binA: string;
  let binB: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-binary-'));
    extensionPath = path.join(root, 'extension');
    binA = path.join(root, 'bin-a');
    binB = path.join(root, 'bin-b');
    fs.mkdirSync(extensionPath);
    fs.mkdirSync(binA);
    fs.mkdirSync(binB);
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  function lookup(configuredPath: string | null, envPath: string | undefined) {
    return findServerBinary({
      configuredPath,
      workspaceFolder: root,
      extensionPath,
      envPath,
      platform: 'linux',
    });
  }

  it('prefers the setting over PATH and bundled', () => {
    const configured = writeFile(path.join(root, 'custom', 'quarry'));
    writeFile(path.join(binA, 'quarry'));
    writeFile(path.join(extensionPath, 'server', 'quarry'));

    const result = lookup(configured, binA);

    assert.deepEqual(result, { kind: 'found', path: configured, source: 'setting' });
  });

  it('resolves a relative setting against the workspace', () => {
    const configured = writeFile(path.join(root, 'tools', 'quarry'));

    const result = lookup('tools/quarry', undefined);

    assert.deepEqual(result, { kind: 'found', path: configured, source: 'setting' });
  });

  it('reports a setting without a file', () => {
    writeFile(path.join(binA, 'quarry'));
    const missing = path.join(root, 'missing', 'quarry');

    const result = lookup(missing, binA);

    assert.deepEqual(result, {
      kind: 'invalidSetting',
      configuredPath: missing,
      resolvedPath: missing,
    });
  });

  it('reports a setting that is not executable', () => {
    const plain = writeFile(path.join(root, 'plain', 'quarry'), 0o644);

    const result = lookup(plain, undefined);

    assert.equal(result.kind, 'invalidSetting');
  });

  it('reports a setting naming a directory', () => {
    const directory = path.join(root, 'a-directory');
    fs.mkdirSync(directory);

    const result = lookup(directory, undefined);

    assert.equal(result.kind, 'invalidSetting');
  });

  it('treats a blank setting as unset', () => {
    const onPath = writeFile(path.join(binA, 'quarry'));

    const result = lookup('   ', binA);

    assert.deepEqual(result, { kind: 'found', path: onPath, source: 'path' });
  });

  it('takes the first PATH directory with a binary', () => {
    writeFile(path.join(binA, 'quarry'), 0o644);
    const executable = writeFile(path.join(binB, 'quarry'));
    writeFile(path.join(extensionPath, 'server', 'quarry'));

    const result = lookup(null, [path.join(root, 'absent'), binA, binB].join(':'));

    assert.deepEqual(result, { kind: 'found', path: executable, source: 'path' });
  });

  it('falls back to the bundled build', () => {
    const bundled = writeFile(path.join(extensionPath, 'server', 'quarry'));

    const result = lookup(null, binA);

    assert.deepEqual(result, { kind: 'found', path: bundled, source: 'bundled' });
  });

  it('lists every searched place when nothing is found', () => {
    const result = lookup(null, `${binA}:${binB}`);

    assert.deepEqual(result, {
      kind: 'notFound',
      searched: [
        path.join(binA, 'quarry'),
        path.join(binB, 'quarry'),
        path.join(extensionPath, 'server', 'quarry'),
      ],
    });
  });

  it('handles an unset PATH', () => {
    const result = lookup(null, undefined);

    assert.deepEqual(result, {
      kind: 'notFound',
      searched: [path.join(extensionPath, 'server', 'quarry')],
    });
  });

  it('uses PATHEXT names on Windows', () => {
    const exe = writeFile(path.join(binA, 'quarry.exe'));

    const result = findServerBinary({
      configuredPath: null,
      workspaceFolder: undefined,
      extensionPath,
      envPath: `${binB};${binA}`,
      envPathExt: '.COM;.EXE',
      platform: 'win32',
    });

    assert.deepEqual(result, { kind: 'found', path: exe, source: 'path' });
  });
});

describe('resolveUserPath', () => {
  it('expands the workspace variable', () => {
    assert.equal(resolveUserPath('${workspaceFolder}/data', '/work/hunt'), '/work/hunt/data');
  });

  it('expands the home directory', () => {
    assert.equal(resolveUserPath('~/bin/quarry', undefined), path.join(os.homedir(), 'bin/quarry'));
  });

  it('keeps absolute paths', () => {
    assert.equal(resolveUserPath('/opt/quarry', '/work/hunt'), '/opt/quarry');
  });

  it('leaves relative paths without a workspace', () => {
    assert.equal(resolveUserPath('data', undefined), 'data');
  });
});
