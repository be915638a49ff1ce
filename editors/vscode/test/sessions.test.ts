import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SESSION_SETTINGS, readSessionSettings, type SessionSettings } from '../src/sessions';

function read(values: Partial<Record<keyof SessionSettings, unknown>>) {
  return readSessionSettings((key) => values[key]);
}

describe('session settings', () => {
  it('defaults to the server defaults', () => {
    const { settings, problems } = read({});

    assert.deepEqual(settings, { window: 3, maxSessionMinutes: 20, maxGapMinutes: 2 });
    assert.deepEqual(problems, []);
  });

  it('passes valid values through', () => {
    const { settings, problems } = read({ window: 2, maxSessionMinutes: 60, maxGapMinutes: 0 });

    assert.deepEqual(settings, { window: 2, maxSessionMinutes: 60, maxGapMinutes: 0 });
    assert.deepEqual(problems, []);
  });

  it('replaces each invalid value with its default', () => {
    const cases: [Partial<Record<keyof SessionSettings, unknown>>, keyof SessionSettings, string][] = [
      [{ window: 0 }, 'window', 'quarry.sessions.window is 0'],
      [{ window: 2.5 }, 'window', 'quarry.sessions.window is 2.5'],
      [{ window: '4' }, 'window', 'quarry.sessions.window is "4"'],
      [{ maxSessionMinutes: 0 }, 'maxSessionMinutes', 'quarry.sessions.maxSessionMinutes is 0'],
      [{ maxSessionMinutes: 7.5 }, 'maxSessionMinutes', 'quarry.sessions.maxSessionMinutes is 7.5'],
      [{ maxGapMinutes: -1 }, 'maxGapMinutes', 'quarry.sessions.maxGapMinutes is -1'],
      [{ maxGapMinutes: true }, 'maxGapMinutes', 'quarry.sessions.maxGapMinutes is true'],
    ];
    for (const [values, key, start] of cases) {
      const { settings, problems } = read(values);

      assert.equal(settings[key], DEFAULT_SESSION_SETTINGS[key], JSON.stringify(values));
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.ok(problems[0].startsWith(start), problems[0]);
      assert.ok(problems[0].includes(`Using ${DEFAULT_SESSION_SETTINGS[key]}`), problems[0]);
    }
  });
});
