// Time-range presets of the status bar picker and the `timeRange` field they send with each
// run. No `vscode` import, so unit tests run it in plain Node.

import type { TimeRange } from './lsp_ext';

/** Values of the `quarry.run.timeRange` setting. */
export const TIME_RANGE_PRESETS = ['all', '1h', '24h', '7d', '30d'] as const;

export type TimeRangePreset = (typeof TIME_RANGE_PRESETS)[number];

export const DEFAULT_TIME_RANGE: TimeRangePreset = 'all';

const PRESET_MILLISECONDS: Record<Exclude<TimeRangePreset, 'all'>, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};

export function isTimeRangePreset(value: unknown): value is TimeRangePreset {
  return typeof value === 'string' && (TIME_RANGE_PRESETS as readonly string[]).includes(value);
}

/**
 * Returns the window that a preset covers, ending at `now`, or undefined for `all`, which sends
 * no time filter.
 */
export function timeRangeFor(preset: TimeRangePreset, now: Date): TimeRange | undefined {
  if (preset === 'all') {
    return undefined;
  }
  const end = now.getTime();
  return {
    start: new Date(end - PRESET_MILLISECONDS[preset]).toISOString(),
    end: new Date(end).toISOString(),
  };
}
