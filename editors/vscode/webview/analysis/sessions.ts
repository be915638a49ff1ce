// The anomalous-sessions view: one table row per session, rarest first, with the session's
// commands listed and its rarest window highlighted. Text goes in through textContent only.

import type { SequencesResult } from '../../src/lsp_ext_sequences';
import type { AnalysisLabels } from '../../src/panels/analysis_protocol';
import { format, textElement } from '../results/dom';

/** Maximum number of sessions listed; the rarest come first, so the rest matter least. */
const MAX_SESSIONS = 500;

export function showSessions(content: HTMLElement, result: SequencesResult, labels: AnalysisLabels): void {
  content.append(
    textElement('p', 'session-count', format(labels.sessionCount, String(result.sessions.length), String(result.window))),
  );
  const table = document.createElement('table');
  table.className = 'sessions';
  const head = document.createElement('tr');
  for (const title of [labels.user, labels.start, labels.events, labels.likelihood, labels.commands]) {
    head.append(textElement('th', 'session-heading', title));
  }
  table.append(head);

  for (const session of result.sessions.slice(0, MAX_SESSIONS)) {
    const row = document.createElement('tr');
    row.className = 'session';
    const user = session.user.map((cell) => cell ?? '').filter((cell) => cell !== '').join(' / ');
    const likelihood = session.rarestLikelihood === null ? labels.noScore : session.rarestLikelihood.toExponential(3);
    const commands = document.createElement('td');
    commands.className = 'session-commands';
    const rarestStart = session.rarestStart;
    session.commands.forEach((command, index) => {
      const inRarest = rarestStart !== null && index >= rarestStart && index < rarestStart + session.rarestLength;
      if (index > 0) {
        commands.append(textElement('span', 'command-separator', ' → '));
      }
      commands.append(textElement('span', inRarest ? 'command rarest' : 'command', command));
    });
    row.append(
      textElement('td', 'session-user', user),
      textElement('td', 'session-start', session.start),
      textElement('td', 'session-events', String(session.commands.length)),
      textElement('td', 'session-likelihood', likelihood),
      commands,
    );
    table.append(row);
  }
  content.append(table);
}
