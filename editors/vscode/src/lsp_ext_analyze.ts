// The analysis requests of docs/lsp-extensions.md: `quarry/analyzeTimeseries`,
// `quarry/processTree` and `quarry/decode`. The parsers run twice: on the server's response in
// the extension, and on the message that reaches the analysis webview. No `vscode` import, so
// unit tests and the webview bundle load it.

import { type CellValue, InvalidResponseError, type ResultColumn } from './lsp_ext';
import {
  optionalString,
  requireArray,
  requireBoolean,
  requireNumber,
  requireRecord,
  requireString,
} from './lsp_ext_check';

export const ANALYZE_TIMESERIES_REQUEST = 'quarry/analyzeTimeseries';
export const PROCESS_TREE_REQUEST = 'quarry/processTree';
export const DECODE_REQUEST = 'quarry/decode';

/** The result table an analysis reads, in the shape `quarry.runQuery` returns it. */
export interface AnalysisTable {
  columns: ResultColumn[];
  rows: CellValue[][];
}

export interface AnalyzeTimeseriesParams extends AnalysisTable {
  timeColumn: string;
  valueColumn: string;
  /** Observations per seasonal cycle; the server's default is 24. */
  period?: number;
  /** Z-score above which a point is an anomaly; the server's default is 3. */
  scoreThreshold?: number;
}

export interface TimeseriesPoint {
  /** ISO-8601 time in UTC. */
  time: string;
  value: number;
  /** Trend plus seasonal component: the value the model expects. */
  baseline: number;
  /** Z-score of the residual; null where the model gives none. */
  score: number | null;
  /** 1 for a spike, -1 for a dip, 0 otherwise. */
  anomalies: number;
}

export interface TimePeriod {
  start: string;
  end: string;
}

export interface TimeseriesResult {
  timeColumn: string;
  valueColumn: string;
  points: TimeseriesPoint[];
  /** Time buckets that contain spikes, merged where they touch. */
  periods: TimePeriod[];
  /** A KQL `where` clause that selects `periods`, or null when there are none. */
  kqlFilter: string | null;
}

export interface ProcessTreeParams extends AnalysisTable {
  /** Event schema such as `windows-4688`; absent: the server picks the best match. */
  schema?: string;
}

export interface ProcessNode {
  key: string;
  /** Key of the parent process; null for a root. */
  parentKey: string | null;
  time: string;
  name: string;
  processId: string;
  commandLine: string | null;
  host: string | null;
  /** True for a parent that no event created, which the tree adds from its children. */
  inferred: boolean;
  depth: number;
}

export interface ProcessTreeSummary {
  processes: number;
  roots: number;
  leaves: number;
  maxDepth: number;
}

export interface ProcessTreeResult {
  summary: ProcessTreeSummary;
  processes: ProcessNode[];
}

export interface DecodeParams {
  text: string;
  maxDepth?: number;
}

export interface DecodeLayer {
  /** Decoding step, such as `base64` or `powershell-encoded-command`; `input` for the root. */
  encoding: string;
  /** Archive member name, for zip and tar members. */
  name: string | null;
  size: number;
  truncated: boolean;
  fileType: string;
  /** The first characters of the decoded text, when the layer is text. */
  preview: string | null;
  sha256: string;
  children: DecodeLayer[];
}

export interface DecodedIndicator {
  type: string;
  value: string;
  /** Index of the layer the indicator was found in, in depth-first order (the input is 0). */
  layer: number;
}

export interface DecodeResult {
  tree: DecodeLayer;
  layers: number;
  indicators: DecodedIndicator[];
  /** Messages of the limits that stopped decoding somewhere in the tree. */
  limits: string[];
}

/** The deepest decode tree the parser accepts; the server's default maximum depth is far lower. */
const MAX_LAYER_DEPTH = 64;

/** Checks a `quarry/analyzeTimeseries` result. Throws `InvalidResponseError` naming the bad field. */
export function parseTimeseriesResult(value: unknown): TimeseriesResult {
  const method = ANALYZE_TIMESERIES_REQUEST;
  const record = requireRecord(value, 'result', method);
  const points = requireArray(record.points, 'points', method).map((item, index): TimeseriesPoint => {
    const field = `points[${index}]`;
    const point = requireRecord(item, field, method);
    const score = point.score === null || point.score === undefined ? null : requireNumber(point.score, `${field}.score`, method);
    return {
      time: requireString(point.time, `${field}.time`, method),
      value: requireNumber(point.value, `${field}.value`, method),
      baseline: requireNumber(point.baseline, `${field}.baseline`, method),
      score,
      anomalies: requireNumber(point.anomalies, `${field}.anomalies`, method),
    };
  });
  const periods = requireArray(record.periods, 'periods', method).map((item, index): TimePeriod => {
    const period = requireRecord(item, `periods[${index}]`, method);
    return {
      start: requireString(period.start, `periods[${index}].start`, method),
      end: requireString(period.end, `periods[${index}].end`, method),
    };
  });
  return {
    timeColumn: requireString(record.timeColumn, 'timeColumn', method),
    valueColumn: requireString(record.valueColumn, 'valueColumn', method),
    points,
    periods,
    kqlFilter: optionalString(record.kqlFilter, 'kqlFilter', method),
  };
}

/**
 * Checks a `quarry/processTree` result and converts its snake_case fields. Throws
 * `InvalidResponseError` naming the bad field.
 */
export function parseProcessTreeResult(value: unknown): ProcessTreeResult {
  const method = PROCESS_TREE_REQUEST;
  const record = requireRecord(value, 'result', method);
  const summary = requireRecord(record.summary, 'summary', method);
  const processes = requireArray(record.processes, 'processes', method).map((item, index): ProcessNode => {
    const field = `processes[${index}]`;
    const process = requireRecord(item, field, method);
    return {
      key: requireString(process.key, `${field}.key`, method),
      parentKey: optionalString(process.parent_key ?? process.parentKey, `${field}.parent_key`, method),
      time: requireString(process.time, `${field}.time`, method),
      name: requireString(process.name, `${field}.name`, method),
      processId: requireString(process.process_id ?? process.processId, `${field}.process_id`, method),
      commandLine: optionalString(process.command_line ?? process.commandLine, `${field}.command_line`, method),
      host: optionalString(process.host, `${field}.host`, method),
      inferred: requireBoolean(process.inferred, `${field}.inferred`, method),
      depth: requireNumber(process.depth, `${field}.depth`, method),
    };
  });
  return {
    summary: {
      processes: requireNumber(summary.processes, 'summary.processes', method),
      roots: requireNumber(summary.roots, 'summary.roots', method),
      leaves: requireNumber(summary.leaves, 'summary.leaves', method),
      maxDepth: requireNumber(summary.max_depth ?? summary.maxDepth, 'summary.max_depth', method),
    },
    processes,
  };
}

/** Checks a `quarry/decode` result. Throws `InvalidResponseError` naming the bad field. */
export function parseDecodeResult(value: unknown): DecodeResult {
  const method = DECODE_REQUEST;
  const record = requireRecord(value, 'result', method);
  const indicators = requireArray(record.indicators, 'indicators', method).map((item, index): DecodedIndicator => {
    const field = `indicators[${index}]`;
    const indicator = requireRecord(item, field, method);
    return {
      type: requireString(indicator.type, `${field}.type`, method),
      value: requireString(indicator.value, `${field}.value`, method),
      layer: requireNumber(indicator.layer, `${field}.layer`, method),
    };
  });
  const limits = requireArray(record.limits, 'limits', method).map((item, index) => {
    if (typeof item === 'string') {
      return item;
    }
    const limit = requireRecord(item, `limits[${index}]`, method);
    return requireString(limit.message, `limits[${index}].message`, method);
  });
  return {
    tree: parseLayer(record.tree, 'tree', 0),
    layers: requireNumber(record.layers, 'layers', method),
    indicators,
    limits,
  };
}

function parseLayer(value: unknown, field: string, depth: number): DecodeLayer {
  const method = DECODE_REQUEST;
  if (depth > MAX_LAYER_DEPTH) {
    throw new InvalidResponseError(`${field} is nested deeper than ${MAX_LAYER_DEPTH} layers`, method);
  }
  const layer = requireRecord(value, field, method);
  return {
    encoding: requireString(layer.encoding, `${field}.encoding`, method),
    name: optionalString(layer.name, `${field}.name`, method),
    size: requireNumber(layer.size, `${field}.size`, method),
    truncated: requireBoolean(layer.truncated, `${field}.truncated`, method),
    fileType: requireString(layer.file_type ?? layer.fileType, `${field}.file_type`, method),
    preview: optionalString(layer.preview, `${field}.preview`, method),
    sha256: requireString(layer.sha256, `${field}.sha256`, method),
    children: requireArray(layer.children, `${field}.children`, method).map((child, index) =>
      parseLayer(child, `${field}.children[${index}]`, depth + 1),
    ),
  };
}

/** KQL column types that `quarry/analyzeTimeseries` can read as values. */
const NUMERIC_TYPES: ReadonlySet<string> = new Set(['long', 'int', 'real', 'decimal']);

/**
 * Returns the columns of `columns` that can be the time and the value of a time series: datetime
 * columns, and numeric columns. Each list keeps the result's column order.
 */
export function timeseriesCandidates(columns: ResultColumn[]): { time: string[]; value: string[] } {
  return {
    time: columns.filter((column) => column.type === 'datetime').map((column) => column.name),
    value: columns.filter((column) => NUMERIC_TYPES.has(column.type)).map((column) => column.name),
  };
}
