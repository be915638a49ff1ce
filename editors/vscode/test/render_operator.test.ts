import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitRenderOperator } from '../src/render_operator';

describe('splitRenderOperator', () => {
  it('splits a trailing render', () => {
    const text = 'T\n| summarize count() by bin(TimeGenerated, 1h)\n| render timechart';

    const split = splitRenderOperator(text);

    assert.deepEqual(split, {
      queryLength: 'T\n| summarize count() by bin(TimeGenerated, 1h)'.length,
      render: { kind: 'timechart', properties: {} },
    });
  });

  it('reads the with clause', () => {
    const split = splitRenderOperator(
      "T | render timechart with (title='Failed logons, per hour', ycolumns = Failures, Successes, ymin=0, legend=hidden, accumulate=true)",
    );

    assert.deepEqual(split?.render, {
      kind: 'timechart',
      properties: {
        title: 'Failed logons, per hour',
        ycolumns: ['Failures', 'Successes'],
        ymin: 0,
        legend: 'hidden',
        accumulate: true,
      },
    });
  });

  it('reads a series list', () => {
    const split = splitRenderOperator('T | render timechart with (series = Computer, Account, title = "x")');

    assert.deepEqual(split?.render.properties, { series: ['Computer', 'Account'], title: 'x' });
  });

  it('lower-cases the kind', () => {
    assert.equal(splitRenderOperator('T | render PieChart')?.render.kind, 'piechart');
  });

  it('ignores a trailing comment and semicolon', () => {
    const split = splitRenderOperator('T | render barchart; // bars\n');

    assert.deepEqual(split?.render, { kind: 'barchart', properties: {} });
  });

  it('returns nothing without render', () => {
    assert.equal(splitRenderOperator('T | where A == 1 | take 10'), undefined);
    assert.equal(splitRenderOperator('T'), undefined);
  });

  it('needs render to be the last operator', () => {
    assert.equal(splitRenderOperator('T | render timechart | take 1'), undefined);
  });

  it('skips pipes inside strings and comments', () => {
    assert.equal(splitRenderOperator("T | where A == '| render timechart'"), undefined);
    assert.equal(splitRenderOperator('T | where A == "x" // | render timechart'), undefined);
    assert.equal(splitRenderOperator("T | where A == @'c:\\| render piechart'"), undefined);
  });

  it('skips pipes inside brackets', () => {
    assert.equal(splitRenderOperator('T | join (U | render timechart)'), undefined);
  });

  it('handles let statements before the query', () => {
    const text = 'let x = 1;\nT | take x\n| render columnchart';

    const split = splitRenderOperator(text);

    assert.equal(text.slice(0, split?.queryLength), 'let x = 1;\nT | take x');
  });

  it('rejects text after the kind that is no with clause', () => {
    assert.equal(splitRenderOperator('T | render timechart extra'), undefined);
  });
});
