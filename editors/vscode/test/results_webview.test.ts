import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunQueryResult } from '../src/lsp_ext';
import { loadWebview } from './helpers/webview';

const HOSTILE_CELLS = [
  '<img src=x onerror=alert(1)>',
  '</script><script>alert(2)</script>',
  'javascript:alert(3)',
  '<a href="javascript:alert(4)">click</a>',
  '"><svg onload=alert(5)>',
  '{0} {1} $& $1',
];

function result(overrides: Partial<RunQueryResult> = {}): RunQueryResult {
  return {
    query: 'SecurityEvent | take 3',
    source: 'demo',
    columns: [
      { name: 'Account', type: 'string' },
      { name: 'EventID', type: 'long' },
      { name: 'Details', type: 'dynamic' },
      { name: 'Success', type: 'bool' },
    ],
    rows: [
      ['CONTOSO\\alice', 4624, { ip: '10.0.0.5', ports: [445, 3389] }, true],
      [null, 4625, null, false],
    ],
    rowCount: 2,
    truncated: false,
    elapsedMs: 4.2,
    warnings: [],
    ...overrides,
  };
}

function cellTexts(document: Document): string[][] {
  return Array.from(document.querySelectorAll('tbody tr.row')).map((row) =>
    Array.from(row.querySelectorAll('td')).map((cell) => cell.textContent ?? ''),
  );
}

describe('results webview', () => {
  it('posts ready after loading', () => {
    const view = loadWebview();

    assert.deepEqual(view.posted, [{ type: 'ready' }]);
    assert.equal(view.document.getElementById('summary')?.textContent, 'Run a query.');
  });

  it('renders columns with their types', () => {
    const view = loadWebview();

    view.receive({ type: 'result', result: result() });

    const headers = Array.from(view.document.querySelectorAll('th')).map((header) => [
      header.querySelector('.column-name')?.textContent,
      header.querySelector('.column-type')?.textContent,
    ]);
    assert.deepEqual(headers, [
      ['Account', 'string'],
      ['EventID', 'long'],
      ['Details', 'dynamic'],
      ['Success', 'bool'],
    ]);
  });

  it('renders cells as text', () => {
    const view = loadWebview();

    view.receive({ type: 'result', result: result() });

    assert.deepEqual(cellTexts(view.document), [
      ['CONTOSO\\alice', '4624', '{"ip":"10.0.0.5","ports":[445,3389]}', 'true'],
      ['', '4625', '', 'false'],
    ]);
    const firstRow = view.document.querySelectorAll('tbody tr.row')[1];
    assert.equal(firstRow.querySelectorAll('td.null').length, 2);
    assert.equal(firstRow.querySelectorAll('td.number').length, 1);
  });

  it('shows row count, elapsed time and source', () => {
    const view = loadWebview();

    view.receive({ type: 'result', result: result({ source: 'folder:/data/logs', elapsedMs: 1234.4 }) });

    const summary = view.document.getElementById('summary');
    assert.equal(summary?.querySelector('.row-count')?.textContent, '2 rows');
    assert.equal(summary?.querySelector('.elapsed')?.textContent, '1234 ms');
    assert.equal(summary?.querySelector('.source')?.textContent, 'Source: folder:/data/logs');
    assert.equal(summary?.querySelector('.truncated'), null);
  });

  it('uses the singular for one row', () => {
    const view = loadWebview();

    view.receive({ type: 'result', result: result({ rows: [['a', 1, null, true]], rowCount: 1 }) });

    assert.equal(view.document.querySelector('#summary .row-count')?.textContent, '1 row');
  });

  it('uses the plural for zero rows', () => {
    const view = loadWebview();

    view.receive({ type: 'result', result: result({ rows: [], rowCount: 0 }) });

    assert.equal(view.document.querySelector('#summary .row-count')?.textContent, '0 rows');
  });

  it('marks a truncated result', () => {
    const view = loadWebview();

    view.receive({ type: 'result', result: result({ rowCount: 50_000, truncated: true }) });

    const notice = view.document.querySelector('#summary .truncated');
    assert.equal(notice?.textContent, 'Showing the first 2 of 50000 rows.');
  });

  it('says so when there are no rows', () => {
    const view = loadWebview();

    view.receive({ type: 'result', result: result({ rows: [], rowCount: 0 }) });

    assert.equal(view.document.querySelector('.no-rows')?.textContent, 'The query returned no rows.');
    assert.equal(view.document.querySelectorAll('th').length, 4);
  });

  it('shows a connection source and its warnings', () => {
    const view = loadWebview();

    view.receive({
      type: 'result',
      result: result({ source: 'connection:sentinel', warnings: ['Partial result [LimitsExceeded]', ...HOSTILE_CELLS] }),
    });

    const summary = view.document.getElementById('summary');
    assert.equal(summary?.querySelector('.source')?.textContent, 'Source: connection:sentinel');
    const items = Array.from(view.document.querySelectorAll('.warnings li')).map((item) => item.textContent);
    assert.deepEqual(items, ['Partial result [LimitsExceeded]', ...HOSTILE_CELLS]);
    assert.equal(view.document.querySelector('.warnings-title')?.textContent, 'Warnings from the service');
    assert.equal(view.document.querySelectorAll('img').length, 0);
    assert.equal(view.document.querySelectorAll('svg').length, 0);
    assert.equal(view.document.querySelectorAll('a').length, 0);
    assert.deepEqual(view.alerts, []);
    assert.equal(cellTexts(view.document).length, 2);
  });

  it('shows no warning box without warnings', () => {
    const view = loadWebview();

    view.receive({ type: 'result', result: result() });

    assert.equal(view.document.querySelector('.warnings'), null);
  });

  it('ignores a result with non-string warnings', () => {
    const view = loadWebview();

    view.receive({ type: 'result', result: { ...result(), warnings: [1] } as unknown as RunQueryResult });

    assert.equal(view.document.querySelector('tbody'), null);
  });

  it('renders hostile cells inert', () => {
    const view = loadWebview();
    const hostile = result({
      columns: HOSTILE_CELLS.map((_, index) => ({ name: `c${index}`, type: 'string' })),
      rows: [HOSTILE_CELLS],
      rowCount: 1,
    });

    view.receive({ type: 'result', result: hostile });

    assert.deepEqual(cellTexts(view.document), [HOSTILE_CELLS]);
    assert.equal(view.document.querySelectorAll('img').length, 0);
    assert.equal(view.document.querySelectorAll('svg').length, 0);
    assert.equal(view.document.querySelectorAll('a').length, 0);
    assert.equal(view.document.querySelectorAll('script').length, 1);
    assert.deepEqual(view.alerts, []);
  });

  it('renders hostile column names inert', () => {
    const view = loadWebview();
    const hostile = result({
      columns: [{ name: '<img src=x onerror=alert(1)>', type: '<script>alert(2)</script>' }],
      rows: [['x']],
      rowCount: 1,
    });

    view.receive({ type: 'result', result: hostile });

    const header = view.document.querySelector('th');
    assert.equal(header?.querySelector('.column-name')?.textContent, '<img src=x onerror=alert(1)>');
    assert.equal(header?.querySelector('.column-type')?.textContent, '<script>alert(2)</script>');
    assert.equal(view.document.querySelectorAll('img').length, 0);
    assert.equal(view.document.querySelectorAll('script').length, 1);
  });

  it('shows an error with its location', () => {
    const view = loadWebview();

    view.receive({
      type: 'error',
      message: "unknown table 'SecurityEvnt' <img src=x onerror=alert(1)>",
      location: { line: 2, character: 4 },
    });

    const errorBox = view.document.getElementById('error');
    assert.equal(errorBox?.hidden, false);
    assert.equal(
      errorBox?.querySelector('.error-message')?.textContent,
      "unknown table 'SecurityEvnt' <img src=x onerror=alert(1)>",
    );
    assert.equal(view.document.querySelectorAll('img').length, 0);
    const button = errorBox?.querySelector('button');
    assert.equal(button?.textContent, 'Line 3, column 5');

    button?.dispatchEvent(new view.window.MouseEvent('click'));

    assert.deepEqual(view.posted.at(-1), { type: 'revealError' });
  });

  it('location click leaves webview unfocused', () => {
    const view = loadWebview();
    view.receive({ type: 'error', message: 'syntax error', location: { line: 0, character: 0 } });
    const button = view.document.querySelector('#error .error-location');
    assert.ok(button !== null);

    // A prevented mousedown moves no focus, so the editor keeps the focus that revealError gives it.
    const press = new view.window.MouseEvent('mousedown', { bubbles: true, cancelable: true });
    button.dispatchEvent(press);

    assert.equal(press.defaultPrevented, true);
  });

  it('shows an error without location', () => {
    const view = loadWebview();

    view.receive({ type: 'error', message: 'unsupported operator: scan', location: null });

    assert.equal(view.document.querySelector('#error button'), null);
    assert.equal(view.document.querySelector('#error .error-message')?.textContent, 'unsupported operator: scan');
  });

  it('clears the error on the next result', () => {
    const view = loadWebview();
    view.receive({ type: 'error', message: 'failed', location: null });

    view.receive({ type: 'result', result: result() });

    assert.equal(view.document.getElementById('error')?.hidden, true);
    assert.equal(view.document.querySelector('#error .error-message'), null);
  });

  it('shows the running state', () => {
    const view = loadWebview();
    view.receive({ type: 'result', result: result() });

    view.receive({ type: 'running' });

    assert.equal(view.document.getElementById('summary')?.textContent, 'Running query…');
    assert.equal(view.document.querySelectorAll('table').length, 0);
  });

  const invalidMessages: [string, unknown][] = [
    ['a string', 'result'],
    ['an unknown type', { type: 'html', html: '<img src=x onerror=alert(1)>' }],
    ['a result without rows', { type: 'result', result: { ...result(), rows: undefined } }],
    ['a row of the wrong length', { type: 'result', result: { ...result(), rows: [['a']] } }],
    ['a column without type', { type: 'result', result: { ...result(), columns: [{ name: 'a' }] } }],
    ['an error without message', { type: 'error', location: null }],
    ['an error with a bad location', { type: 'error', message: 'x', location: { line: 'one' } }],
    ['a result with a bad render hint', { type: 'result', result: { ...result(), render: { kind: 3 } } }],
  ];
  for (const [name, message] of invalidMessages) {
    it(`ignores ${name}`, () => {
      const view = loadWebview();
      view.receive({ type: 'result', result: result() });

      view.receive(message);

      assert.equal(view.warnings.length, 1);
      assert.equal(view.document.querySelectorAll('tbody tr.row').length, 2);
      assert.equal(view.document.querySelectorAll('img').length, 0);
      assert.equal((view.state() as { type: string }).type, 'result');
    });
  }

  it('saves state and redraws it after a reload', () => {
    const first = loadWebview();
    first.receive({ type: 'result', result: result() });

    const reloaded = loadWebview(first.state());

    assert.deepEqual(cellTexts(reloaded.document), cellTexts(first.document));
    assert.deepEqual(reloaded.posted, [{ type: 'ready' }]);
  });

  it('ignores a corrupt saved state', () => {
    const view = loadWebview({ type: 'result', result: { rows: 'x' } });

    assert.equal(view.document.querySelectorAll('table').length, 0);
    assert.equal(view.document.getElementById('summary')?.textContent, 'Run a query.');
  });

  it('shows a chart area for a render hint', () => {
    const view = loadWebview();

    view.receive({
      type: 'result',
      result: result({
        columns: [
          { name: 'TimeGenerated', type: 'datetime' },
          { name: 'Failures', type: 'long' },
        ],
        rows: [['2024-01-15T00:00:00Z', 3]],
        rowCount: 1,
        render: { kind: 'timechart', properties: { title: '<img src=x onerror=alert(1)>' } },
      }),
    });

    const chart = view.document.getElementById('chart');
    assert.equal(chart?.hidden, false);
    assert.equal(chart?.dataset.kind, 'timechart');
    const canvas = chart?.querySelector('canvas');
    assert.equal(canvas?.getAttribute('aria-label'), '<img src=x onerror=alert(1)>');
    // jsdom has no 2D context, so only the attempt to draw is visible here; the end-to-end test
    // checks the drawn pixels in Chromium.
    assert.equal(view.notImplemented.length, 1);
    assert.equal(view.document.querySelectorAll('img').length, 0);
    assert.equal(view.document.querySelectorAll('tbody tr.row').length, 1);
  });

  it('explains a chart kind it cannot draw', () => {
    const view = loadWebview();

    view.receive({ type: 'result', result: result({ render: { kind: 'ladderchart', properties: {} } }) });

    assert.equal(view.document.querySelector('#chart .chart-notice')?.textContent, 'Cannot draw a ladderchart.');
    assert.equal(view.document.querySelector('#chart canvas'), null);
  });

  it('explains a result the chart cannot plot', () => {
    const view = loadWebview();

    view.receive({
      type: 'result',
      result: result({
        columns: [{ name: 'Account', type: 'string' }],
        rows: [['alice']],
        rowCount: 1,
        render: { kind: 'piechart', properties: {} },
      }),
    });

    assert.equal(view.document.querySelector('#chart .chart-notice')?.textContent, 'Nothing to plot.');
  });

  it('hides the chart for a result without render', () => {
    const view = loadWebview();
    view.receive({ type: 'result', result: result({ render: { kind: 'ladderchart', properties: {} } }) });

    view.receive({ type: 'result', result: result() });

    assert.equal(view.document.getElementById('chart')?.hidden, true);
  });
});
