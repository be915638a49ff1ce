// The `quarry.sessions.*` settings of "Quarry: Find Anomalous Sessions": how events are split
// into sessions and how long the scored window of commands is. No `vscode` import, so the unit
// tests can run it.

/** Options of `quarry/analyzeSequences` that the settings control. */
export interface SessionSettings {
  /** Sliding window length, in commands. */
  window: number;
  /** Maximum session length, in whole minutes. */
  maxSessionMinutes: number;
  /** Maximum gap between two events of one session, in whole minutes. */
  maxGapMinutes: number;
}

/** The values the server uses when a setting is absent. */
export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
  window: 3,
  maxSessionMinutes: 20,
  maxGapMinutes: 2,
};

/** Checked settings, and one message for each value that was invalid and replaced by its default. */
export interface SessionSettingsRead {
  settings: SessionSettings;
  problems: string[];
}

/**
 * Reads the settings through `get`, which returns the value of a key under `quarry.sessions`
 * (`window`, `maxSessionMinutes`, `maxGapMinutes`), or undefined or null when it is not set.
 */
export function readSessionSettings(get: (key: keyof SessionSettings) => unknown): SessionSettingsRead {
  const problems: string[] = [];

  const windowLength = get('window') ?? DEFAULT_SESSION_SETTINGS.window;
  const validWindow = typeof windowLength === 'number' && Number.isInteger(windowLength) && windowLength >= 1;
  if (!validWindow) {
    problems.push(
      `quarry.sessions.window is ${JSON.stringify(windowLength)} but must be a whole number of commands, 1 or more. Using ${DEFAULT_SESSION_SETTINGS.window} until it is fixed.`,
    );
  }

  const session = get('maxSessionMinutes') ?? DEFAULT_SESSION_SETTINGS.maxSessionMinutes;
  const validSession = typeof session === 'number' && Number.isInteger(session) && session >= 1;
  if (!validSession) {
    problems.push(
      `quarry.sessions.maxSessionMinutes is ${JSON.stringify(session)} but must be a whole number of minutes, 1 or more. Using ${DEFAULT_SESSION_SETTINGS.maxSessionMinutes} until it is fixed.`,
    );
  }

  const gap = get('maxGapMinutes') ?? DEFAULT_SESSION_SETTINGS.maxGapMinutes;
  const validGap = typeof gap === 'number' && Number.isInteger(gap) && gap >= 0;
  if (!validGap) {
    problems.push(
      `quarry.sessions.maxGapMinutes is ${JSON.stringify(gap)} but must be a whole number of minutes, 0 or more. Using ${DEFAULT_SESSION_SETTINGS.maxGapMinutes} until it is fixed.`,
    );
  }

  return {
    settings: {
      window: validWindow ? windowLength : DEFAULT_SESSION_SETTINGS.window,
      maxSessionMinutes: validSession ? session : DEFAULT_SESSION_SETTINGS.maxSessionMinutes,
      maxGapMinutes: validGap ? gap : DEFAULT_SESSION_SETTINGS.maxGapMinutes,
    },
    problems,
  };
}
