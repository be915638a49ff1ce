// The timeline of events: the rows of a result placed on a time axis, one series per value of a
// grouping column, with reference markers at times the user gives. Built in the extension from
// the last result, checked again in the webview. No `vscode` import, so unit tests load it.

import type { RunQueryResult } from './lsp_ext';

/** Maximum number of series drawn; rows of the other groups are counted in `otherEvents`. */
export const MAX_SERIES = 12;
/** Maximum number of events drawn, so the chart stays responsive. */
export const MAX_EVENTS = 20_000;

export interface TimelineEvent {
  /** Milliseconds since the Unix epoch. */
  time: number;
  /** Tooltip text: the row's cells joined, cut to 200 characters. */
  label: string;
}

export interface TimelineSeries {
  name: string;
  events: TimelineEvent[];
}

export interface TimelineMarker {
  time: number;
  label: string;
}

export interface Timeline {
  timeColumn: string;
  groupColumn: string | null;
  series: TimelineSeries[];
  markers: TimelineMarker[];
  /** Rows left out: those in groups past `MAX_SERIES`, past `MAX_EVENTS`, or with no valid time. */
  omitted: number;
}

/**
 * Builds the timeline of `result`: the rows grouped by `groupColumn` (or one series), the
 * largest groups first. Throws when a column is not in the result.
 */
export function buildTimeline(
  result: RunQueryResult,
  timeColumn: string,
  groupColumn: string | null,
  markers: TimelineMarker[],
): Timeline {
  const timeIndex = columnIndex(result, timeColumn);
  const groupIndex = groupColumn === null ? -1 : columnIndex(result, groupColumn);
  const groups = new Map<string, TimelineEvent[]>();
  let omitted = 0;
  for (const row of result.rows) {
    const time = Date.parse(String(row[timeIndex]));
    if (!Number.isFinite(time)) {
      omitted += 1;
      continue;
    }
    const name = groupIndex < 0 ? timeColumn : cellText(row[groupIndex]);
    const label = row.map(cellText).join(' | ').slice(0, 200);
    const events = groups.get(name) ?? [];
    events.push({ time, label });
    groups.set(name, events);
  }

  const ordered = Array.from(groups.entries()).sort((a, b) => b[1].length - a[1].length);
  const series: TimelineSeries[] = [];
  let drawn = 0;
  for (const [name, events] of ordered) {
    const room = MAX_EVENTS - drawn;
    if (series.length === MAX_SERIES || room <= 0) {
      omitted += events.length;
      continue;
    }
    const drawnEvents = events.slice(0, room).sort((a, b) => a.time - b.time);
    omitted += events.length - drawnEvents.length;
    drawn += drawnEvents.length;
    series.push({ name, events: drawnEvents });
  }
  return { timeColumn, groupColumn, series, markers, omitted };
}

/**
 * Parses reference markers typed by the user: comma-separated ISO-8601 times, each optionally
 * followed by `=label`. Returns the markers or the first entry that is not a time.
 */
export function parseMarkers(text: string): TimelineMarker[] | { error: string } {
  const markers: TimelineMarker[] = [];
  for (const entry of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const separator = entry.indexOf('=');
    const timeText = (separator < 0 ? entry : entry.slice(0, separator)).trim();
    const time = Date.parse(timeText);
    if (!/^\d{4}-\d{2}-\d{2}/.test(timeText) || !Number.isFinite(time)) {
      return { error: timeText };
    }
    markers.push({ time, label: separator < 0 ? timeText : entry.slice(separator + 1).trim() });
  }
  return markers;
}

/** Checks a timeline posted to the webview. Throws on a field of the wrong shape. */
export function parseTimeline(value: unknown): Timeline {
  const record = requireObject(value, 'timeline');
  const series = requireList(record.series, 'series').map((item, index) => {
    const entry = requireObject(item, `series[${index}]`);
    return {
      name: requireText(entry.name, `series[${index}].name`),
      events: requireList(entry.events, `series[${index}].events`).map((event, position) =>
        parseMark(event, `series[${index}].events[${position}]`),
      ),
    };
  });
  const groupColumn = record.groupColumn === null ? null : requireText(record.groupColumn, 'groupColumn');
  const omitted = record.omitted;
  if (typeof omitted !== 'number' || !Number.isInteger(omitted) || omitted < 0) {
    throw new TypeError('timeline: `omitted` is not a count');
  }
  return {
    timeColumn: requireText(record.timeColumn, 'timeColumn'),
    groupColumn,
    series,
    markers: requireList(record.markers, 'markers').map((marker, index) => parseMark(marker, `markers[${index}]`)),
    omitted,
  };
}

function parseMark(value: unknown, field: string): TimelineEvent {
  const record = requireObject(value, field);
  if (typeof record.time !== 'number' || !Number.isFinite(record.time)) {
    throw new TypeError(`timeline: \`${field}.time\` is not a finite number`);
  }
  return { time: record.time, label: requireText(record.label, `${field}.label`) };
}

function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`timeline: \`${field}\` is not an object`);
  }
  return value as Record<string, unknown>;
}

function requireList(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`timeline: \`${field}\` is not an array`);
  }
  return value;
}

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(`timeline: \`${field}\` is not a string`);
  }
  return value;
}

function columnIndex(result: RunQueryResult, name: string): number {
  const index = result.columns.findIndex((column) => column.name === name);
  if (index < 0) {
    throw new Error(`column ${name} is not in the result; it has ${result.columns.map((column) => column.name).join(', ')}`);
  }
  return index;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}
