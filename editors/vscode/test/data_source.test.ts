import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyConnection, buildConnectionItems, type Translate } from '../src/data_source';
import type { ConnectionInfo, RunQueryArgs } from '../src/lsp_ext';

/** Fills placeholders as `vscode.l10n.t` does without a translation bundle. */
const t: Translate = (message, ...args) => message.replace(/\{(\d+)\}/g, (_, index: string) => args[Number(index)]);

function connection(overrides: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return {
    name: 'sentinel',
    kind: 'log-analytics',
    target: 'workspace 8b1c',
    auth: 'token',
    credentialsConfigured: true,
    problems: [],
    ...overrides,
  };
}

describe('buildConnectionItems', () => {
  it('shows name, kind and target', () => {
    const [item] = buildConnectionItems([connection()], null, t);

    assert.equal(item.label, '$(cloud) sentinel');
    assert.equal(item.description, 'log-analytics: workspace 8b1c');
    assert.equal(item.detail, undefined);
    assert.equal(item.connection, 'sentinel');
  });

  it('marks the current connection', () => {
    const items = buildConnectionItems([connection(), connection({ name: 'other' })], 'other', t);

    assert.equal(items[0].description, 'log-analytics: workspace 8b1c');
    assert.equal(items[1].description, 'log-analytics: workspace 8b1c (current)');
  });

  it('warns about missing credentials', () => {
    const [item] = buildConnectionItems([connection({ auth: 'client-secret', credentialsConfigured: false })], null, t);

    assert.equal(item.label, '$(warning) sentinel');
    assert.equal(item.detail, 'Credentials for client-secret sign-in are not configured.');
  });

  it('warns with the problem text', () => {
    const problems = ['`workspace` is missing', 'unknown key `tenant`'];
    const [item] = buildConnectionItems([connection({ kind: 'splunk', problems })], null, t);

    assert.equal(item.label, '$(warning) sentinel');
    assert.equal(item.description, 'splunk: workspace 8b1c');
    assert.equal(item.detail, '`workspace` is missing unknown key `tenant`');
  });

  it('keeps the server order', () => {
    const names = buildConnectionItems([connection({ name: 'b' }), connection({ name: 'a' })], null, t).map(
      (item) => item.connection,
    );

    assert.deepEqual(names, ['b', 'a']);
  });
});

describe('applyConnection', () => {
  it('adds the connection to a cursor run', () => {
    const args: RunQueryArgs = { uri: 'file:///hunt.kql', position: { line: 2, character: 0 } };

    applyConnection(args, 'sentinel');

    assert.deepEqual(args, { uri: 'file:///hunt.kql', position: { line: 2, character: 0 }, connection: 'sentinel' });
  });

  it('keeps the time range next to the connection', () => {
    const timeRange = { start: '2024-05-01T00:00:00.000Z', end: '2024-05-02T00:00:00.000Z' };
    const args: RunQueryArgs = { query: 'SigninLogs | take 1', timeRange };

    applyConnection(args, 'sentinel');

    assert.equal(args.connection, 'sentinel');
    assert.deepEqual(args.timeRange, timeRange);
  });

  it('leaves a local run without connection', () => {
    const args: RunQueryArgs = { query: 'SecurityEvent | take 1' };

    applyConnection(args, null);

    assert.equal('connection' in args, false);
  });
});
