import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CellValue, ResultColumn } from '../src/lsp_ext';
import { RENDER_KINDS } from '../src/lsp_ext';
import { buildChartData, isSupportedKind, MAX_POINTS } from '../webview/results/chart_data';

const HOURLY: ResultColumn[] = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'Computer', type: 'string' },
  { name: 'Failures', type: 'long' },
];
const HOURLY_ROWS: CellValue[][] = [
  ['2024-01-15T01:00:00Z', 'WS01', 3],
  ['2024-01-15T00:00:00Z', 'WS01', 1],
  ['2024-01-15T00:00:00Z', 'WS02', 5],
];

describe('buildChartData', () => {
  it('splits a timechart into series by its string column', () => {
    const chart = buildChartData(HOURLY, HOURLY_ROWS, { kind: 'timechart', properties: {} });

    assert.equal(chart?.type, 'xy');
    assert.ok(chart?.type === 'xy');
    assert.equal(chart.xAxis, 'time');
    assert.deepEqual(chart.series, [
      {
        name: 'WS01',
        points: [
          { x: Date.parse('2024-01-15T00:00:00Z'), y: 1 },
          { x: Date.parse('2024-01-15T01:00:00Z'), y: 3 },
        ],
      },
      { name: 'WS02', points: [{ x: Date.parse('2024-01-15T00:00:00Z'), y: 5 }] },
    ]);
    assert.equal(chart.pointCount, chart.totalPoints);
  });

  it('groups by the first string column only', () => {
    const columns: ResultColumn[] = [
      { name: 'T', type: 'datetime' },
      { name: 'Host', type: 'string' },
      { name: 'User', type: 'string' },
      { name: 'N', type: 'long' },
    ];
    const rows: CellValue[][] = [
      ['2024-01-15T00:00:00Z', 'WS01', 'alice', 1],
      ['2024-01-15T01:00:00Z', 'WS01', 'bob', 2],
    ];

    const byHost = buildChartData(columns, rows, { kind: 'timechart', properties: {} });
    const byBoth = buildChartData(columns, rows, { kind: 'timechart', properties: { series: ['Host', 'User'] } });

    assert.deepEqual(byHost?.series.map((series) => series.name), ['WS01']);
    assert.deepEqual(byBoth?.series.map((series) => series.name), ['WS01, alice', 'WS01, bob']);
  });

  it('uses the ycolumns and title properties', () => {
    const columns: ResultColumn[] = [
      { name: 'T', type: 'datetime' },
      { name: 'A', type: 'long' },
      { name: 'B', type: 'real' },
    ];
    const rows: CellValue[][] = [['2024-01-15T00:00:00Z', 1, 2.5]];

    const chart = buildChartData(columns, rows, {
      kind: 'linechart',
      properties: { ycolumns: ['B'], title: 'Bytes', legend: 'hidden' },
    });

    assert.ok(chart?.type === 'xy');
    assert.deepEqual(chart.series.map((series) => series.name), ['B']);
    assert.equal(chart.options.title, 'Bytes');
    assert.equal(chart.options.legend, false);
  });

  it('names series by column when there are several', () => {
    const columns: ResultColumn[] = [
      { name: 'T', type: 'datetime' },
      { name: 'Host', type: 'string' },
      { name: 'In', type: 'long' },
      { name: 'Out', type: 'long' },
    ];

    const chart = buildChartData(columns, [['2024-01-15T00:00:00Z', 'WS01', 1, 2]], { kind: 'areachart', properties: {} });

    assert.ok(chart?.type === 'xy');
    assert.equal(chart.kind, 'area');
    assert.deepEqual(chart.series.map((series) => series.name), ['WS01: In', 'WS01: Out']);
  });

  it('expands make-series arrays and marks anomalies', () => {
    const columns: ResultColumn[] = [
      { name: 'Host', type: 'string' },
      { name: 'Count', type: 'dynamic' },
      { name: 'TimeGenerated', type: 'dynamic' },
      { name: 'Anomalies', type: 'dynamic' },
    ];
    const rows: CellValue[][] = [
      ['WS01', [1, 9, 2], ['2024-01-15T00:00:00Z', '2024-01-15T01:00:00Z', '2024-01-15T02:00:00Z'], [0, 1, 0]],
    ];

    const chart = buildChartData(columns, rows, {
      kind: 'anomalychart',
      properties: { xcolumn: 'TimeGenerated', anomalycolumns: ['Anomalies'] },
    });

    assert.ok(chart?.type === 'xy');
    assert.equal(chart.xAxis, 'time');
    assert.deepEqual(chart.series[0].name, 'WS01');
    assert.deepEqual(chart.series[0].points.map((point) => point.y), [1, 9, 2]);
    assert.deepEqual(chart.anomalies, [{ x: Date.parse('2024-01-15T01:00:00Z'), y: 9 }]);
  });

  it('puts string x values on a category axis', () => {
    const columns: ResultColumn[] = [
      { name: 'Account', type: 'string' },
      { name: 'N', type: 'long' },
    ];

    const chart = buildChartData(columns, [['alice', 3], ['bob', 1]], { kind: 'linechart', properties: {} });

    assert.ok(chart?.type === 'xy');
    assert.equal(chart.xAxis, 'category');
    assert.deepEqual(chart.categories, ['alice', 'bob']);
    assert.deepEqual(chart.series[0].points, [{ x: 0, y: 3 }, { x: 1, y: 1 }]);
  });

  it('builds bar, column and pie charts from a label column', () => {
    const columns: ResultColumn[] = [
      { name: 'Account', type: 'string' },
      { name: 'Failures', type: 'long' },
      { name: 'Successes', type: 'long' },
    ];
    const rows: CellValue[][] = [['alice', 3, 10], ['<b>bob</b>', 1, 2]];

    const bar = buildChartData(columns, rows, { kind: 'barchart', properties: { kind: 'stacked' } });
    const pie = buildChartData(columns, rows, { kind: 'piechart', properties: {} });

    assert.ok(bar?.type === 'category');
    assert.equal(bar.kind, 'bar');
    assert.equal(bar.options.stacked, true);
    assert.deepEqual(bar.labels, ['alice', '<b>bob</b>']);
    assert.deepEqual(bar.series, [
      { name: 'Failures', values: [3, 1] },
      { name: 'Successes', values: [10, 2] },
    ]);
    assert.ok(pie?.type === 'category');
    assert.deepEqual(pie.series, [{ name: 'Failures', values: [3, 1] }]);
  });

  it('returns nothing without a numeric column', () => {
    const columns: ResultColumn[] = [{ name: 'Account', type: 'string' }];

    assert.equal(buildChartData(columns, [['alice']], { kind: 'columnchart', properties: {} }), undefined);
    assert.equal(buildChartData(columns, [['alice']], { kind: 'timechart', properties: {} }), undefined);
  });

  it('supports every kind of the contract', () => {
    for (const kind of RENDER_KINDS) {
      assert.ok(isSupportedKind(kind), `${kind} is not drawn`);
    }
  });

  it('returns nothing for an unknown kind', () => {
    assert.equal(buildChartData(HOURLY, HOURLY_ROWS, { kind: 'ladderchart', properties: {} }), undefined);
  });

  it('caps the points drawn', () => {
    const rows: CellValue[][] = [];
    for (let index = 0; index < MAX_POINTS + 500; index++) {
      rows.push([new Date(Date.UTC(2024, 0, 1) + index * 60_000).toISOString(), 'WS01', index]);
    }

    const chart = buildChartData(HOURLY, rows, { kind: 'timechart', properties: {} });

    assert.equal(chart?.pointCount, MAX_POINTS);
    assert.equal(chart?.totalPoints, MAX_POINTS + 500);
  });
});
