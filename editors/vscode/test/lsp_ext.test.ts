import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidResponseError,
  parseListConnectionsResult,
  parseRunQueryErrorData,
  parseRunQueryResult,
} from '../src/lsp_ext';

function validResult(): Record<string, unknown> {
  return {
    query: 'SecurityEvent | take 2',
    source: 'demo',
    columns: [
      { name: 'Account', type: 'string' },
      { name: 'EventID', type: 'int' },
    ],
    rows: [
      ['CONTOSO\\alice', 4624],
      [null, 4625],
    ],
    rowCount: 2,
    truncated: false,
    elapsedMs: 4.2,
  };
}

describe('parseRunQueryResult', () => {
  it('accepts the documented shape', () => {
    const result = parseRunQueryResult(validResult());

    assert.equal(result.rowCount, 2);
    assert.deepEqual(result.columns[1], { name: 'EventID', type: 'int' });
    assert.equal(result.rows[1][0], null);
  });

  it('reads the optional render hint', () => {
    const render = { kind: 'timechart', properties: { title: 'Logons', ycolumns: ['A', 'B'], ymin: 0, accumulate: true } };

    assert.deepEqual(parseRunQueryResult({ ...validResult(), render }).render, render);
    assert.equal(parseRunQueryResult(validResult()).render, undefined);
    assert.equal(parseRunQueryResult({ ...validResult(), render: null }).render, undefined);
  });

  it('drops unknown column fields', () => {
    const value = validResult();
    value.columns = [
      { name: 'Account', type: 'string', extra: 1 },
      { name: 'EventID', type: 'int' },
    ];

    const result = parseRunQueryResult(value);

    assert.deepEqual(result.columns[0], { name: 'Account', type: 'string' });
  });

  it('reads a remote result with warnings', () => {
    const warnings = ['Query result set has exceeded the internal record count limit [LimitsExceeded]', 'Two tables; showing the first'];
    const result = parseRunQueryResult({
      ...validResult(),
      source: 'connection:sentinel',
      connection: 'sentinel',
      warnings,
    });

    assert.equal(result.source, 'connection:sentinel');
    assert.equal(result.connection, 'sentinel');
    assert.deepEqual(result.warnings, warnings);
  });

  it('treats absent or null warnings as none', () => {
    assert.deepEqual(parseRunQueryResult(validResult()).warnings, []);
    assert.deepEqual(parseRunQueryResult({ ...validResult(), warnings: null }).warnings, []);
    assert.equal(parseRunQueryResult({ ...validResult(), connection: null }).connection, undefined);
  });

  const invalid: [string, (value: Record<string, unknown>) => unknown, RegExp][] = [
    ['warnings not array', (v) => ({ ...v, warnings: 'partial' }), /`warnings` is not an array/],
    ['numeric warning', (v) => ({ ...v, warnings: ['ok', 3] }), /warnings\[1\] is not a string/],
    ['numeric connection', (v) => ({ ...v, connection: 7 }), /`connection`/],
    ['non-object', () => [], /expected an object/],
    ['missing query', (v) => ({ ...v, query: undefined }), /`query`/],
    ['numeric source', (v) => ({ ...v, source: 1 }), /`source`/],
    ['columns not array', (v) => ({ ...v, columns: {} }), /`columns`/],
    ['column without type', (v) => ({ ...v, columns: [{ name: 'a' }, { name: 'b', type: 'int' }] }), /columns\[0\]/],
    ['row not array', (v) => ({ ...v, rows: ['x'] }), /rows\[0\]/],
    ['short row', (v) => ({ ...v, rows: [['only one']] }), /rows\[0\] has 1 cells but there are 2 columns/],
    ['negative rowCount', (v) => ({ ...v, rowCount: -1 }), /`rowCount`/],
    ['fractional rowCount', (v) => ({ ...v, rowCount: 1.5 }), /`rowCount`/],
    ['string truncated', (v) => ({ ...v, truncated: 'no' }), /`truncated`/],
    ['infinite elapsedMs', (v) => ({ ...v, elapsedMs: Infinity }), /`elapsedMs`/],
    ['render without kind', (v) => ({ ...v, render: { properties: {} } }), /`render`/],
    ['render property of an object', (v) => ({ ...v, render: { kind: 'piechart', properties: { title: {} } } }), /`render`/],
    ['render list of numbers', (v) => ({ ...v, render: { kind: 'timechart', properties: { ycolumns: [1] } } }), /`render`/],
  ];
  for (const [name, mutate, message] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parseRunQueryResult(mutate(validResult())), (error: unknown) => {
        assert.ok(error instanceof InvalidResponseError);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

describe('parseRunQueryErrorData', () => {
  it('reads the range', () => {
    const range = { start: { line: 0, character: 16 }, end: { line: 0, character: 21 } };

    assert.deepEqual(parseRunQueryErrorData({ range }), { range });
  });

  it('keeps the service error code', () => {
    const range = { start: { line: 4, character: 2 }, end: { line: 4, character: 6 } };

    assert.deepEqual(parseRunQueryErrorData({ range, code: 'SYN0002' }), { range, code: 'SYN0002' });
    assert.deepEqual(parseRunQueryErrorData({ range, code: 7 }), { range });
  });

  it('ignores missing or malformed data', () => {
    assert.equal(parseRunQueryErrorData(undefined), undefined);
    assert.equal(parseRunQueryErrorData({}), undefined);
    assert.equal(parseRunQueryErrorData({ range: { start: { line: -1, character: 0 } } }), undefined);
    assert.equal(parseRunQueryErrorData({ range: 'line 3' }), undefined);
  });
});

function validList(): Record<string, unknown> {
  return {
    connections: [
      {
        name: 'sentinel',
        kind: 'log-analytics',
        target: 'workspace 8b1c',
        auth: 'token',
        credentialsConfigured: true,
        problems: [],
      },
      {
        name: 'adx',
        kind: 'azure-data-explorer',
        target: 'cluster help',
        auth: 'client-secret',
        credentialsConfigured: false,
        problems: ['environment variable QUARRY_ADX_SECRET is not set'],
      },
    ],
    files: ['/work/quarry.toml'],
    problems: [],
  };
}

describe('parseListConnectionsResult', () => {
  it('accepts the documented shape', () => {
    const list = parseListConnectionsResult(validList());

    assert.equal(list.connections.length, 2);
    assert.equal(list.connections[1].credentialsConfigured, false);
    assert.deepEqual(list.connections[1].problems, ['environment variable QUARRY_ADX_SECRET is not set']);
    assert.deepEqual(list.files, ['/work/quarry.toml']);
  });

  const invalid: [string, (value: Record<string, unknown>) => unknown, RegExp][] = [
    ['non-object', () => null, /quarry\/listConnections result: expected an object/],
    ['connections not array', (v) => ({ ...v, connections: {} }), /`connections`/],
    ['numeric name', (v) => ({ ...v, connections: [{ ...(v.connections as object[])[0], name: 1 }] }), /connections\[0\]\.name/],
    [
      'string credentialsConfigured',
      (v) => ({ ...v, connections: [{ ...(v.connections as object[])[0], credentialsConfigured: 'yes' }] }),
      /credentialsConfigured/,
    ],
    ['missing problems', (v) => ({ ...v, connections: [{ ...(v.connections as object[])[0], problems: undefined }] }), /problems/],
    ['numeric file', (v) => ({ ...v, files: [1] }), /`files`/],
  ];
  for (const [name, mutate, message] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parseListConnectionsResult(mutate(validList())), (error: unknown) => {
        assert.ok(error instanceof InvalidResponseError);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});
