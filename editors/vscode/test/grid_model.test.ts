import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  estimateColumnWidth,
  filterOrder,
  formatCell,
  nextSort,
  parseTimespan,
  rectangle,
  rectangleText,
  searchTexts,
  sortedOrder,
  visibleWindow,
} from '../webview/results/grid_model';

describe('grid model', () => {
  it('formats cells', () => {
    assert.equal(formatCell(null), '');
    assert.equal(formatCell('a'), 'a');
    assert.equal(formatCell(4.5), '4.5');
    assert.equal(formatCell(false), 'false');
    assert.equal(formatCell({ a: [1] }), '{"a":[1]}');
  });

  it('parses timespans', () => {
    assert.equal(parseTimespan('01:30:00'), 5_400_000);
    assert.equal(parseTimespan('2.00:00:01'), 172_801_000);
    assert.equal(parseTimespan('-00:00:01.5'), -1_500);
    assert.ok(Number.isNaN(parseTimespan('1h')));
  });

  it('sorts numbers numerically with nulls last', () => {
    const rows = [[10], [null], [9], [-1], [100]];
    const columns = [{ name: 'N', type: 'long' }];

    assert.deepEqual(sortedOrder(rows, columns, { column: 0, direction: 'ascending' }), [3, 2, 0, 4, 1]);
    assert.deepEqual(sortedOrder(rows, columns, { column: 0, direction: 'descending' }), [4, 0, 2, 3, 1]);
  });

  it('sorts text ignoring case and keeps ties stable', () => {
    const rows = [['b'], ['A'], ['a'], ['C']];
    const columns = [{ name: 'S', type: 'string' }];

    assert.deepEqual(sortedOrder(rows, columns, { column: 0, direction: 'ascending' }), [1, 2, 0, 3]);
  });

  it('sorts datetimes and timespans by time', () => {
    const times = [['2024-01-02T00:00:00Z'], ['2023-12-31T23:00:00Z'], ['2024-01-01T00:00:00.5Z']];
    const spans = [['1.00:00:00'], ['02:00:00'], ['00:00:30']];

    assert.deepEqual(sortedOrder(times, [{ name: 'T', type: 'datetime' }], { column: 0, direction: 'ascending' }), [1, 2, 0]);
    assert.deepEqual(sortedOrder(spans, [{ name: 'D', type: 'timespan' }], { column: 0, direction: 'ascending' }), [2, 1, 0]);
  });

  it('keeps the original order without a sort', () => {
    assert.deepEqual(sortedOrder([[3], [1], [2]], [{ name: 'N', type: 'long' }], undefined), [0, 1, 2]);
  });

  it('cycles the sort of a column', () => {
    const ascending = nextSort(undefined, 2);
    const descending = nextSort(ascending, 2);

    assert.deepEqual(ascending, { column: 2, direction: 'ascending' });
    assert.deepEqual(descending, { column: 2, direction: 'descending' });
    assert.equal(nextSort(descending, 2), undefined);
    assert.deepEqual(nextSort(descending, 0), { column: 0, direction: 'ascending' });
  });

  it('filters on any cell ignoring case', () => {
    const rows = [['alice', 'WS01'], ['bob', 'ws02'], ['carol', null]];
    const texts = searchTexts(rows);

    assert.deepEqual(filterOrder([2, 1, 0], texts, 'WS0'), [1, 0]);
    assert.deepEqual(filterOrder([0, 1, 2], texts, '  '), [0, 1, 2]);
    assert.deepEqual(filterOrder([0, 1, 2], texts, 'null'), []);
  });

  it('does not match across two cells', () => {
    const texts = searchTexts([['ab', 'cd']]);

    assert.deepEqual(filterOrder([0], texts, 'bc'), []);
  });

  it('computes the rows in view', () => {
    assert.deepEqual(visibleWindow(0, 600, 20, 100_000, 10), { start: 0, end: 41 });
    assert.deepEqual(visibleWindow(20_000, 600, 20, 100_000, 10), { start: 990, end: 1041 });
    assert.deepEqual(visibleWindow(2_000_000, 600, 20, 100_000, 10), { start: 99_990, end: 100_000 });
    assert.deepEqual(visibleWindow(0, 600, 20, 5, 10), { start: 0, end: 5 });
    assert.deepEqual(visibleWindow(0, 600, 20, 0, 10), { start: 0, end: 0 });
  });

  it('copies a rectangle as tab-separated text', () => {
    const rows = [
      ['a', 1, 'x'],
      ['b\tc', 2, 'y'],
      ['say "hi"', null, 'z'],
    ];
    const area = rectangle({ row: 2, column: 1 }, { row: 0, column: 0 });

    assert.deepEqual(area, { top: 0, bottom: 2, left: 0, right: 1 });
    assert.equal(rectangleText(rows, [0, 1, 2], area), 'a\t1\n"b\tc"\t2\n"say ""hi"""\t');
    assert.equal(rectangleText(rows, [2, 0, 1], { top: 0, bottom: 0, left: 2, right: 2 }), 'z');
  });

  it('estimates column widths within bounds', () => {
    const column = { name: 'Id', type: 'long' };

    assert.equal(estimateColumnWidth(column, [[1]], 0, 7.5), 64);
    assert.equal(estimateColumnWidth(column, [['x'.repeat(500)]], 0, 7.5), 400);
  });
});
