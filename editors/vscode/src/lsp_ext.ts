// Quarry's additions to LSP, mirrored from docs/lsp-extensions.md (the contract with
// server/quarry/src/lsp/). Change the three together. This module has no `vscode` import, so
// unit tests load it in plain Node.

/** LSP `Position`: zero-based line and UTF-16 character offset. */
export interface Position {
  line: number;
  character: number;
}

/** LSP `Range`, end exclusive. */
export interface Range {
  start: Position;
  end: Position;
}

/** Sent in `initialize`'s `initializationOptions`. */
export interface InitializationOptions {
  /** Folder of CSV, TSV, JSON-lines and Parquet files; null selects the built-in demo dataset. */
  dataFolder: string | null;
  /** Maximum number of rows that `quarry.runQuery` returns. */
  maxRows: number;
  /** Template folders read after Quarry's own library, as absolute paths. */
  templateFolders: string[];
}

/**
 * `settings` of `workspace/didChangeConfiguration`: the server reads
 * `settings.quarry.data.folder`, `settings.quarry.run.maxRows` and
 * `settings.quarry.templates.folders`.
 */
export interface ConfigurationSettings {
  quarry: {
    data: { folder: string | null };
    run: { maxRows: number };
    templates: { folders: string[] };
  };
}

export const RUN_QUERY_COMMAND = 'quarry.runQuery';

/**
 * Time window that a run applies to every table with a `TimeGenerated` column. Both ends are
 * ISO-8601 instants in UTC; `start` is inclusive and `end` exclusive.
 */
export interface TimeRange {
  start: string;
  end: string;
}

/** Per-run overrides accepted in every argument form. */
export interface RunQueryOverrides {
  dataFolder?: string | null;
  maxRows?: number;
  /** Absent: no time filter. */
  timeRange?: TimeRange;
  /** Name of a connection from `quarry.toml` or `msticpyconfig.yaml`. Absent: a local run. */
  connection?: string;
  /** Seconds a remote run may take after sign-in (the server's default is 180), per chunk with `chunk`. */
  timeoutSeconds?: number;
  /**
   * Length of the consecutive runs that split `timeRange` on a remote connection, such as `P1D`
   * or `6h`. Needs `timeRange`.
   */
  chunk?: string;
}

/** Runs the query block (text between blank lines) that contains `position`. */
export interface RunQueryCursorArgs extends RunQueryOverrides {
  uri: string;
  position: Position;
}

/** Runs the text inside `range`. */
export interface RunQuerySelectionArgs extends RunQueryOverrides {
  uri: string;
  range: Range;
}

/** Runs `query` as given. */
export interface RunQueryTextArgs extends RunQueryOverrides {
  query: string;
}

export type RunQueryArgs = RunQueryCursorArgs | RunQuerySelectionArgs | RunQueryTextArgs;

/** KQL type names that the server uses in `columns[].type`. */
export const KQL_COLUMN_TYPES = [
  'string',
  'long',
  'int',
  'real',
  'bool',
  'datetime',
  'timespan',
  'guid',
  'dynamic',
] as const;

export interface ResultColumn {
  name: string;
  /** A KQL type name, normally one of `KQL_COLUMN_TYPES`. */
  type: string;
}

/** A cell value: strings, numbers, booleans and null, or any JSON value for `dynamic` columns. */
export type CellValue = unknown;

/** Chart types of the KQL `render` operator that the results panel draws. */
export const RENDER_KINDS = [
  'timechart',
  'linechart',
  'areachart',
  'barchart',
  'columnchart',
  'piechart',
  'scatterchart',
  'anomalychart',
] as const;

/** A value in a `render ... with (...)` clause; lists such as `ycolumns` are arrays. */
export type RenderPropertyValue = string | number | boolean | string[];

/** The `render` operator that ended a query: its chart kind and its `with (...)` properties. */
export interface RenderHint {
  /** A chart kind, normally one of `RENDER_KINDS`; the panel shows a notice for any other. */
  kind: string;
  properties: Record<string, RenderPropertyValue>;
}

/** Result of `quarry.runQuery`. */
export interface RunQueryResult {
  query: string;
  /** `"demo"`, `"folder:"` followed by the folder path, or `"connection:"` followed by its name. */
  source: string;
  columns: ResultColumn[];
  rows: CellValue[][];
  /** Number of rows in the full result. `rows` contains at most `maxRows` of them. */
  rowCount: number;
  truncated: boolean;
  elapsedMs: number;
  /** Present when the query ended in a `render` operator. */
  render?: RenderHint;
  /** Name of the connection that ran a remote query. Absent for local runs. */
  connection?: string;
  /** The service's partial errors and notes. Empty when there are none or the run was local. */
  warnings: string[];
}

/** `data` of the JSON-RPC error that `quarry.runQuery` returns when the problem has a place. */
export interface RunQueryErrorData {
  range: Range;
  /** The service's most specific error code, such as `SYN0002`, when a remote service rejected the query. */
  code?: string;
}

/** JSON-RPC error code RequestFailed, used by `quarry.runQuery` for query errors. */
export const REQUEST_FAILED = -32803;

/** Raised when a server response does not have the shape that docs/lsp-extensions.md gives. */
export class InvalidResponseError extends Error {
  constructor(detail: string, method: string = RUN_QUERY_COMMAND) {
    super(`invalid ${method} result: ${detail}`);
    this.name = 'InvalidResponseError';
  }
}

/**
 * Checks that `value` is a `RunQueryResult` and returns it typed.
 * Throws `InvalidResponseError` naming the first field that does not match.
 */
export function parseRunQueryResult(value: unknown): RunQueryResult {
  if (!isRecord(value)) {
    throw new InvalidResponseError('expected an object');
  }
  const { query, source, columns, rows, rowCount, truncated, elapsedMs } = value;
  if (typeof query !== 'string') {
    throw new InvalidResponseError('`query` is not a string');
  }
  if (typeof source !== 'string') {
    throw new InvalidResponseError('`source` is not a string');
  }
  if (!Array.isArray(columns)) {
    throw new InvalidResponseError('`columns` is not an array');
  }
  columns.forEach((column, index) => {
    if (!isRecord(column) || typeof column.name !== 'string' || typeof column.type !== 'string') {
      throw new InvalidResponseError(`columns[${index}] needs string fields name and type`);
    }
  });
  if (!Array.isArray(rows)) {
    throw new InvalidResponseError('`rows` is not an array');
  }
  rows.forEach((row, index) => {
    if (!Array.isArray(row)) {
      throw new InvalidResponseError(`rows[${index}] is not an array`);
    }
    if (row.length !== columns.length) {
      throw new InvalidResponseError(
        `rows[${index}] has ${row.length} cells but there are ${columns.length} columns`,
      );
    }
  });
  if (!isCount(rowCount)) {
    throw new InvalidResponseError('`rowCount` is not a non-negative integer');
  }
  if (typeof truncated !== 'boolean') {
    throw new InvalidResponseError('`truncated` is not a boolean');
  }
  if (typeof elapsedMs !== 'number' || !Number.isFinite(elapsedMs)) {
    throw new InvalidResponseError('`elapsedMs` is not a finite number');
  }
  const result: RunQueryResult = {
    query,
    source,
    columns: columns.map((column) => ({ name: column.name, type: column.type })),
    rows: rows as CellValue[][],
    rowCount,
    truncated,
    elapsedMs,
    warnings: parseWarnings(value.warnings),
  };
  if (value.connection !== undefined && value.connection !== null) {
    if (typeof value.connection !== 'string') {
      throw new InvalidResponseError('`connection` is not a string');
    }
    result.connection = value.connection;
  }
  if (value.render !== undefined && value.render !== null) {
    const render = parseRenderHint(value.render);
    if (render === undefined) {
      throw new InvalidResponseError('`render` needs a string `kind` and an object `properties`');
    }
    result.render = render;
  }
  return result;
}

/** Returns the `warnings` field as strings; absent or null (older servers, local runs) is empty. */
function parseWarnings(value: unknown): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value)) {
    throw new InvalidResponseError('`warnings` is not an array');
  }
  value.forEach((warning, index) => {
    if (typeof warning !== 'string') {
      throw new InvalidResponseError(`warnings[${index}] is not a string`);
    }
  });
  return value.slice() as string[];
}

/** Returns `value` as a `RenderHint`, or undefined when it does not have that shape. */
export function parseRenderHint(value: unknown): RenderHint | undefined {
  if (!isRecord(value) || typeof value.kind !== 'string' || !isRecord(value.properties)) {
    return undefined;
  }
  const properties: Record<string, RenderPropertyValue> = {};
  for (const [name, property] of Object.entries(value.properties)) {
    if (!isRenderPropertyValue(property)) {
      return undefined;
    }
    properties[name] = Array.isArray(property) ? property.slice() : property;
  }
  return { kind: value.kind, properties };
}

function isRenderPropertyValue(value: unknown): value is RenderPropertyValue {
  if (Array.isArray(value)) {
    return value.every((item) => typeof item === 'string');
  }
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** Returns the error range from a `quarry.runQuery` error's `data`, or undefined when it has none. */
export function parseRunQueryErrorData(data: unknown): RunQueryErrorData | undefined {
  if (!isRecord(data) || !isRange(data.range)) {
    return undefined;
  }
  const parsed: RunQueryErrorData = { range: data.range };
  if (typeof data.code === 'string') {
    parsed.code = data.code;
  }
  return parsed;
}

/** Method of the custom request that lists the configured connections. No params. */
export const LIST_CONNECTIONS_REQUEST = 'quarry/listConnections';

/** Connection kinds that the server reports in `kind`. */
export const CONNECTION_KINDS = ['log-analytics', 'azure-data-explorer', 'defender', 'splunk'] as const;

/** One connection from `quarry/listConnections`. The secret itself is never sent. */
export interface ConnectionInfo {
  name: string;
  /** Normally one of `CONNECTION_KINDS`. */
  kind: string;
  /** The target the connection queries, such as `workspace 8b1c…`. */
  target: string;
  /** Sign-in method: `azure-cli`, `client-secret`, `device-code`, `token` or `basic`. */
  auth: string;
  /** True when the sign-in method's secret resolves, and always for methods without one. */
  credentialsConfigured: boolean;
  /** Problems that would stop the connection from working. */
  problems: string[];
}

/** Result of `quarry/listConnections`. */
export interface ListConnectionsResult {
  connections: ConnectionInfo[];
  /** Configuration files that the server read. */
  files: string[];
  /** Mistakes in the files themselves. */
  problems: string[];
}

/**
 * Checks that `value` is a `ListConnectionsResult` and returns a copy.
 * Throws `InvalidResponseError` naming the first field that does not match.
 */
export function parseListConnectionsResult(value: unknown): ListConnectionsResult {
  if (!isRecord(value)) {
    throw new InvalidResponseError('expected an object', LIST_CONNECTIONS_REQUEST);
  }
  if (!Array.isArray(value.connections)) {
    throw new InvalidResponseError('`connections` is not an array', LIST_CONNECTIONS_REQUEST);
  }
  const connections = value.connections.map((connection, index): ConnectionInfo => {
    const field = `connections[${index}]`;
    if (!isRecord(connection)) {
      throw new InvalidResponseError(`${field} is not an object`, LIST_CONNECTIONS_REQUEST);
    }
    for (const name of ['name', 'kind', 'target', 'auth'] as const) {
      if (typeof connection[name] !== 'string') {
        throw new InvalidResponseError(`${field}.${name} is not a string`, LIST_CONNECTIONS_REQUEST);
      }
    }
    if (typeof connection.credentialsConfigured !== 'boolean') {
      throw new InvalidResponseError(`${field}.credentialsConfigured is not a boolean`, LIST_CONNECTIONS_REQUEST);
    }
    return {
      name: connection.name as string,
      kind: connection.kind as string,
      target: connection.target as string,
      auth: connection.auth as string,
      credentialsConfigured: connection.credentialsConfigured,
      problems: parseStrings(connection.problems, `${field}.problems`),
    };
  });
  return {
    connections,
    files: parseStrings(value.files, 'files'),
    problems: parseStrings(value.problems, 'problems'),
  };
}

function parseStrings(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InvalidResponseError(`\`${field}\` is not an array of strings`, LIST_CONNECTIONS_REQUEST);
  }
  return value.slice() as string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isPosition(value: unknown): value is Position {
  return isRecord(value) && isCount(value.line) && isCount(value.character);
}

function isRange(value: unknown): value is Range {
  return isRecord(value) && isPosition(value.start) && isPosition(value.end);
}
