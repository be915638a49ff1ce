import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTimeRangePreset, TIME_RANGE_PRESETS, timeRangeFor } from '../src/time_range';

describe('time range presets', () => {
  const now = new Date('2024-01-15T12:00:00.000Z');

  it('sends nothing for all time', () => {
    assert.equal(timeRangeFor('all', now), undefined);
  });

  it('ends each window at the run', () => {
    assert.deepEqual(timeRangeFor('1h', now), { start: '2024-01-15T11:00:00.000Z', end: '2024-01-15T12:00:00.000Z' });
    assert.deepEqual(timeRangeFor('24h', now), { start: '2024-01-14T12:00:00.000Z', end: '2024-01-15T12:00:00.000Z' });
    assert.deepEqual(timeRangeFor('7d', now), { start: '2024-01-08T12:00:00.000Z', end: '2024-01-15T12:00:00.000Z' });
    assert.deepEqual(timeRangeFor('30d', now), { start: '2023-12-16T12:00:00.000Z', end: '2024-01-15T12:00:00.000Z' });
  });

  it('recognises only the presets', () => {
    for (const preset of TIME_RANGE_PRESETS) {
      assert.ok(isTimeRangePreset(preset));
    }
    assert.equal(isTimeRangePreset('2h'), false);
    assert.equal(isTimeRangePreset(undefined), false);
  });
});
