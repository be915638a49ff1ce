// The results grid's data operations: cell text, sorting, filtering, the rows in view and the
// text of a copied selection. No DOM access, so unit tests run it in plain Node.

import type { CellValue, ResultColumn } from '../../src/lsp_ext';

/** Column types whose cells are right-aligned and sorted as numbers. */
export const NUMERIC_TYPES: ReadonlySet<string> = new Set(['long', 'int', 'real', 'decimal', 'double']);

export type SortDirection = 'ascending' | 'descending';

export interface SortState {
  column: number;
  direction: SortDirection;
}

/** A cell position in view coordinates: the row's index in the sorted, filtered order. */
export interface CellPosition {
  row: number;
  column: number;
}

/** A rectangle of cells between an anchor and a focus cell, both included. */
export interface CellRectangle {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Returns the display text of a cell: strings as they are, JSON for dynamic values, '' for null. */
export function formatCell(value: CellValue): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value);
}

/**
 * Parses a KQL timespan such as `01:30:00`, `2.04:00:00` or `-00:00:01.5` into milliseconds.
 * Returns NaN for any other text.
 */
export function parseTimespan(text: string): number {
  const match = /^(-)?(?:(\d+)\.)?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text);
  if (match === null) {
    return Number.NaN;
  }
  const [, minus, days, hours, minutes, seconds] = match;
  const total =
    (Number(days ?? 0) * 86_400 + Number(hours) * 3_600 + Number(minutes) * 60 + Number(seconds)) * 1_000;
  return minus === undefined ? total : -total;
}

type SortKey = number | string;

/**
 * Converts a column's cells into keys that compare with `<`: numbers for numeric, datetime,
 * timespan and bool columns, lower-case text for the rest. Null cells get undefined and sort last.
 */
function sortKeys(rows: readonly CellValue[][], column: number, type: string): (SortKey | undefined)[] {
  return rows.map((row) => {
    const value = row[column];
    if (value === null || value === undefined) {
      return undefined;
    }
    if (typeof value === 'number') {
      return value;
    }
    if (typeof value === 'boolean') {
      return value ? 1 : 0;
    }
    if (typeof value === 'string') {
      if (type === 'datetime') {
        const time = Date.parse(value);
        return Number.isNaN(time) ? value.toLowerCase() : time;
      }
      if (type === 'timespan') {
        const span = parseTimespan(value);
        return Number.isNaN(span) ? value.toLowerCase() : span;
      }
      if (NUMERIC_TYPES.has(type)) {
        const number = Number(value);
        return Number.isNaN(number) ? value.toLowerCase() : number;
      }
      return value.toLowerCase();
    }
    return JSON.stringify(value).toLowerCase();
  });
}

/**
 * Returns the row indices of `rows` in the order that `sort` gives, or in their original order
 * when `sort` is undefined. Null cells come last in both directions, and equal keys keep their
 * original order. In a column that mixes numbers and text, ascending order puts numbers first.
 * NOTE: text compares by UTF-16 code units after lower-casing, not by locale, so that 100,000
 * rows sort in well under a second.
 */
export function sortedOrder(
  rows: readonly CellValue[][],
  columns: readonly ResultColumn[],
  sort: SortState | undefined,
): number[] {
  const order = rows.map((_, index) => index);
  if (sort === undefined) {
    return order;
  }
  const keys = sortKeys(rows, sort.column, columns[sort.column]?.type ?? 'string');
  const sign = sort.direction === 'ascending' ? 1 : -1;
  order.sort((a, b) => {
    const left = keys[a];
    const right = keys[b];
    if (left === undefined && right === undefined) {
      return a - b;
    }
    if (left === undefined) {
      return 1;
    }
    if (right === undefined) {
      return -1;
    }
    if (typeof left !== typeof right) {
      return (typeof left === 'number' ? -1 : 1) * sign || a - b;
    }
    if (left < right) {
      return -sign;
    }
    if (left > right) {
      return sign;
    }
    return a - b;
  });
  return order;
}

/** Returns the next sort state when the user clicks a column header: ascending, descending, none. */
export function nextSort(current: SortState | undefined, column: number): SortState | undefined {
  if (current === undefined || current.column !== column) {
    return { column, direction: 'ascending' };
  }
  if (current.direction === 'ascending') {
    return { column, direction: 'descending' };
  }
  return undefined;
}

/**
 * Lower-case text of every row, its cells separated by NUL so that a filter cannot match across
 * two cells. Built once per result and reused by each filter change.
 */
export function searchTexts(rows: readonly CellValue[][]): string[] {
  return rows.map((row) => row.map(formatCell).join('\u0000').toLowerCase());
}

/**
 * Keeps the indices in `order` whose row contains `filter` in any cell, ignoring case. An empty
 * or blank filter keeps every row.
 */
export function filterOrder(order: readonly number[], texts: readonly string[], filter: string): number[] {
  const needle = filter.trim().toLowerCase();
  if (needle.length === 0) {
    return order.slice();
  }
  return order.filter((index) => texts[index].includes(needle));
}

/** Returns the rows to put in the DOM: those in the viewport plus `overscan` above and below. */
export function visibleWindow(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  rowCount: number,
  overscan: number,
): { start: number; end: number } {
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const count = Math.ceil(viewportHeight / rowHeight) + 1;
  const start = Math.max(0, Math.min(first, rowCount) - overscan);
  const end = Math.min(rowCount, first + count + overscan);
  return { start, end: Math.max(start, end) };
}

/** Returns the rectangle spanned by two cells. */
export function rectangle(anchor: CellPosition, focus: CellPosition): CellRectangle {
  return {
    top: Math.min(anchor.row, focus.row),
    bottom: Math.max(anchor.row, focus.row),
    left: Math.min(anchor.column, focus.column),
    right: Math.max(anchor.column, focus.column),
  };
}

/**
 * Quotes a cell for tab-separated text as spreadsheets read it from the clipboard: a value with
 * a tab, a line break or a double quote goes in double quotes, with its quotes doubled.
 */
export function tsvField(text: string): string {
  return /[\t\r\n"]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Returns the cells of `area` as tab-separated lines. `order` maps view rows to result rows.
 */
export function rectangleText(
  rows: readonly CellValue[][],
  order: readonly number[],
  area: CellRectangle,
): string {
  const lines: string[] = [];
  for (let viewRow = area.top; viewRow <= area.bottom && viewRow < order.length; viewRow++) {
    const row = rows[order[viewRow]];
    const fields: string[] = [];
    for (let column = area.left; column <= area.right && column < row.length; column++) {
      fields.push(tsvField(formatCell(row[column])));
    }
    lines.push(fields.join('\t'));
  }
  return lines.join('\n');
}

/**
 * Estimates a column's starting width in pixels from its name, its type and the text of the
 * first rows, between 64 and 400 pixels. `charWidth` is the width of one character.
 */
export function estimateColumnWidth(
  column: ResultColumn,
  rows: readonly CellValue[][],
  index: number,
  charWidth: number,
): number {
  let longest = Math.max(column.name.length, column.type.length);
  const sample = Math.min(rows.length, 100);
  for (let row = 0; row < sample; row++) {
    longest = Math.max(longest, formatCell(rows[row][index]).length);
  }
  return Math.round(Math.min(400, Math.max(64, longest * charWidth + 28)));
}
