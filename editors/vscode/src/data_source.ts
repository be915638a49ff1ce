// Items of the data source picker and the run arguments that follow from the chosen source. No
// `vscode` import, so unit tests run it in plain Node. Callers pass `vscode.l10n.t` as `t`.

import type { ConnectionInfo, RunQueryOverrides } from './lsp_ext';

/** Formats a message with `{0}`-style placeholders, as `vscode.l10n.t` does. */
export type Translate = (message: string, ...args: string[]) => string;

/** A picker item for one connection. `connection` is the name stored in `quarry.data.connection`. */
export interface ConnectionPickItem {
  label: string;
  description: string;
  detail: string | undefined;
  connection: string;
}

/** Returns true when the connection has a problem or its secret does not resolve. */
export function connectionNeedsAttention(connection: ConnectionInfo): boolean {
  return !connection.credentialsConfigured || connection.problems.length > 0;
}

/**
 * Builds one picker item per connection, in the server's order. A connection whose credentials
 * are not configured, or that has problems, gets a warning icon and the problem text as detail.
 */
export function buildConnectionItems(
  connections: readonly ConnectionInfo[],
  current: string | null,
  t: Translate,
): ConnectionPickItem[] {
  return connections.map((connection) => {
    const icon = connectionNeedsAttention(connection) ? '$(warning)' : '$(cloud)';
    const summary = t('{0}: {1}', connection.kind, connection.target);
    const description = connection.name === current ? t('{0} (current)', summary) : summary;

    const notes: string[] = [];
    if (!connection.credentialsConfigured) {
      notes.push(t('Credentials for {0} sign-in are not configured.', connection.auth));
    }
    notes.push(...connection.problems);
    return {
      label: `${icon} ${connection.name}`,
      description,
      detail: notes.length > 0 ? notes.join(' ') : undefined,
      connection: connection.name,
    };
  });
}

/**
 * Adds the chosen connection to a run's argument. Without a connection the argument is left as
 * it is, so the server runs the query locally on the demo dataset or the data folder.
 */
export function applyConnection(args: RunQueryOverrides, connection: string | null): void {
  if (connection !== null) {
    args.connection = connection;
  }
}
