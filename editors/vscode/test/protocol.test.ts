import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWebviewMessage } from '../src/panels/protocol';

describe('parseWebviewMessage', () => {
  it('accepts the known messages', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'revealError' }), { type: 'revealError' });
  });

  it('accepts copy and export messages', () => {
    const columns = [{ name: 'A', type: 'string' }];

    assert.deepEqual(parseWebviewMessage({ type: 'copy', text: 'a\tb' }), { type: 'copy', text: 'a\tb' });
    assert.deepEqual(parseWebviewMessage({ type: 'export', format: 'json', columns, rows: [['x'], [null]] }), {
      type: 'export',
      format: 'json',
      columns,
      rows: [['x'], [null]],
    });
  });

  it('rejects malformed copy and export messages', () => {
    const columns = [{ name: 'A', type: 'string' }];
    const invalid = [
      { type: 'copy' },
      { type: 'copy', text: 42 },
      { type: 'export', format: 'xlsx', columns, rows: [] },
      { type: 'export', format: 'csv', columns: [{ name: 'A' }], rows: [] },
      { type: 'export', format: 'csv', columns, rows: [['x', 'y']] },
      { type: 'export', format: 'csv', columns, rows: 'x' },
      { type: 'export', format: 'csv', rows: [] },
    ];
    for (const value of invalid) {
      assert.equal(parseWebviewMessage(value), undefined, `accepted ${JSON.stringify(value)}`);
    }
  });

  it('checks cell actions', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'cellAction', action: 'pivot', value: '10.0.1.1', column: 'IP' }), {
      type: 'cellAction',
      action: 'pivot',
      value: '10.0.1.1',
      column: 'IP',
    });
    assert.deepEqual(parseWebviewMessage({ type: 'cellAction', action: 'decode', value: 'SGVsbG8=', column: 'C' }), {
      type: 'cellAction',
      action: 'decode',
      value: 'SGVsbG8=',
      column: 'C',
    });
    assert.equal(parseWebviewMessage({ type: 'cellAction', action: 'run', value: 'x', column: 'A' }), undefined);
    assert.equal(parseWebviewMessage({ type: 'cellAction', action: 'enrich', value: '  ', column: 'A' }), undefined);
    assert.equal(parseWebviewMessage({ type: 'cellAction', action: 'enrich', value: 'x'.repeat(70_000), column: 'A' }), undefined);
    assert.equal(parseWebviewMessage({ type: 'cellAction', action: 'enrich', value: 'x' }), undefined);
  });

  it('drops extra fields', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready', command: 'rm -rf' }), { type: 'ready' });
  });

  it('rejects anything else', () => {
    for (const value of [null, undefined, 'ready', 42, [], ['ready'], {}, { type: 'READY' }, { type: 'run' }]) {
      assert.equal(parseWebviewMessage(value), undefined, `accepted ${JSON.stringify(value)}`);
    }
  });
});
