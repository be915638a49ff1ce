// The `quarry/analyzeSequences` request of docs/lsp-extensions.md: command sessions per user,
// scored by a Markov model and sorted rarest first. The parser runs on the server's response in
// the extension and again on the message that reaches the analysis webview. No `vscode` import.

import type { AnalysisTable } from './lsp_ext_analyze';
import { InvalidResponseError } from './lsp_ext';
import { optionalString, requireArray, requireNumber, requireRecord, requireString, requireStrings } from './lsp_ext_check';

export const ANALYZE_SEQUENCES_REQUEST = 'quarry/analyzeSequences';

export interface AnalyzeSequencesParams extends AnalysisTable {
  userColumns: string[];
  timeColumn: string;
  eventColumn: string;
  /** Sliding window length, in commands (server default 3). */
  window?: number;
  /** Maximum session length, in whole minutes (server default 20). */
  maxSessionMinutes?: number;
  /** Maximum gap between two events of a session, in whole minutes (server default 2). */
  maxGapMinutes?: number;
}

export interface ScoredSession {
  /** Values of the user columns; null for an empty cell. */
  user: (string | null)[];
  start: string;
  end: string;
  commands: string[];
  likelihood: number | null;
  /** Likelihood of the rarest window; null when the session is shorter than the window. */
  rarestLikelihood: number | null;
  /** Index in `commands` of the rarest window's first command. */
  rarestStart: number | null;
  /** Number of commands in the rarest window. */
  rarestLength: number;
}

export interface SequencesResult {
  userColumns: string[];
  window: number;
  sessions: ScoredSession[];
}

/** Checks a `quarry/analyzeSequences` result, in the server's snake_case or the webview's camelCase form. */
export function parseSequencesResult(value: unknown): SequencesResult {
  const method = ANALYZE_SEQUENCES_REQUEST;
  const record = requireRecord(value, 'result', method);
  const sessions = requireArray(record.sessions, 'sessions', method).map((item, index) => {
    const field = `sessions[${index}]`;
    const session = requireRecord(item, field, method);
    const pick = (snake: string, camel: string): unknown => (camel in session ? session[camel] : session[snake]);
    const user = requireArray(session.user, `${field}.user`, method).map((cell, column) =>
      optionalString(cell, `${field}.user[${column}]`, method),
    );
    const commands = requireStrings(session.commands, `${field}.commands`, method);
    const rarestStart = nullableIndex(pick('rarest_window_start', 'rarestStart'), commands.length, `${field}.rarest_window_start`);
    const rarestWindow = session.rarest_window;
    const rarestLength =
      'rarestLength' in session
        ? requireNumber(session.rarestLength, `${field}.rarestLength`, method)
        : requireStrings(rarestWindow, `${field}.rarest_window`, method).length;
    return {
      user,
      start: requireString(session.start, `${field}.start`, method),
      end: requireString(session.end, `${field}.end`, method),
      commands,
      likelihood: nullableNumber(session.likelihood, `${field}.likelihood`),
      rarestLikelihood: nullableNumber(pick('rarest_window_likelihood', 'rarestLikelihood'), `${field}.rarest_window_likelihood`),
      rarestStart,
      rarestLength,
    };
  });
  return {
    userColumns: requireStrings(record.userColumns, 'userColumns', method),
    window: requireNumber(record.window, 'window', method),
    sessions,
  };
}

function nullableNumber(value: unknown, field: string): number | null {
  return value === null || value === undefined ? null : requireNumber(value, field, ANALYZE_SEQUENCES_REQUEST);
}

function nullableIndex(value: unknown, length: number, field: string): number | null {
  const index = nullableNumber(value, field);
  if (index !== null && (!Number.isInteger(index) || index < 0 || index > length)) {
    throw new InvalidResponseError(`\`${field}\` is ${index}, not an index into ${length} commands`, ANALYZE_SEQUENCES_REQUEST);
  }
  return index;
}
