// Checks the messages that the extension posts to the results webview against the union in
// src/panels/protocol.ts, because a webview must not trust the shape of what it receives.

import { parseRenderHint, type RunQueryResult } from '../../src/lsp_ext';
import type { ErrorLocation, ExtensionMessage } from '../../src/panels/protocol';

/** Returns `value` when it is one of the extension's messages, else undefined. */
export function parseExtensionMessage(value: unknown): ExtensionMessage | undefined {
  if (!isRecord(value)) {
    return undefined;
  }
  switch (value.type) {
    case 'running':
      return { type: 'running' };
    case 'result':
      return isResult(value.result) ? { type: 'result', result: value.result } : undefined;
    case 'error': {
      if (typeof value.message !== 'string') {
        return undefined;
      }
      const location = value.location;
      if (location !== null && !isLocation(location)) {
        return undefined;
      }
      return { type: 'error', message: value.message, location };
    }
    default:
      return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isLocation(value: unknown): value is ErrorLocation {
  return isRecord(value) && isCount(value.line) && isCount(value.character);
}

function isResult(value: unknown): value is RunQueryResult {
  if (!isRecord(value)) {
    return false;
  }
  const columns = value.columns;
  const rows = value.rows;
  return (
    typeof value.query === 'string' &&
    typeof value.source === 'string' &&
    Array.isArray(columns) &&
    columns.every(
      (column) => isRecord(column) && typeof column.name === 'string' && typeof column.type === 'string',
    ) &&
    Array.isArray(rows) &&
    rows.every((row) => Array.isArray(row) && row.length === columns.length) &&
    isCount(value.rowCount) &&
    typeof value.truncated === 'boolean' &&
    typeof value.elapsedMs === 'number' &&
    Number.isFinite(value.elapsedMs) &&
    (value.render === undefined || parseRenderHint(value.render) !== undefined) &&
    (value.warnings === undefined ||
      (Array.isArray(value.warnings) && value.warnings.every((warning) => typeof warning === 'string')))
  );
}
