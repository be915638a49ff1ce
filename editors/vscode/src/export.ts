// Builds the CSV and JSON files that the results panel exports. No `vscode` import, so unit tests
// run it in plain Node.

import type { CellValue, ResultColumn } from './lsp_ext';

export type ExportFormat = 'csv' | 'json';

/**
 * First characters that make a spreadsheet read a cell as a formula. OWASP ASVS 5.0 requirement
 * 1.2.10 names `=`, `+`, `-`, `@`, tab and NUL. Carriage return is guarded too, as several
 * CSV-injection guides recommend.
 */
const FORMULA_PREFIXES = new Set(['=', '+', '-', '@', '\t', '\r', '\0']);

/**
 * Returns the text of one CSV field, following RFC 4180 and OWASP's advice on CSV injection:
 *
 * - a string that starts with `=`, `+`, `-`, `@`, a tab, a carriage return or NUL gets a
 *   leading `'`, so that a spreadsheet shows it as text instead of evaluating it. Numbers and
 *   booleans are written as they are, so a negative number stays a number;
 * - a field that contains a comma, a double quote, CR or LF is enclosed in double quotes, with
 *   each double quote doubled;
 * - null is an empty field, and dynamic values are written as JSON text.
 */
export function csvField(value: CellValue): string {
  let text: string;
  if (value === null || value === undefined) {
    return '';
  } else if (typeof value === 'string') {
    text = FORMULA_PREFIXES.has(value.charAt(0)) ? `'${value}` : value;
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    text = String(value);
  } else {
    text = JSON.stringify(value);
  }
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Returns the columns and rows as CSV: a header line, then one line per row, each ending in CRLF. */
export function toCsv(columns: readonly ResultColumn[], rows: readonly CellValue[][]): string {
  const lines = [columns.map((column) => csvField(column.name)).join(',')];
  for (const row of rows) {
    lines.push(row.map(csvField).join(','));
  }
  return lines.map((line) => `${line}\r\n`).join('');
}

/**
 * Returns the rows as a JSON array of objects keyed by column name, one object per line. When
 * two columns share a name, the later one gets a `_1`, `_2`, … suffix so that no value is lost.
 */
export function toJson(columns: readonly ResultColumn[], rows: readonly CellValue[][]): string {
  const keys = uniqueNames(columns.map((column) => column.name));
  const lines = rows.map((row) => {
    const record: Record<string, CellValue> = {};
    keys.forEach((key, index) => {
      record[key] = row[index] ?? null;
    });
    return `  ${JSON.stringify(record)}`;
  });
  return lines.length === 0 ? '[]\n' : `[\n${lines.join(',\n')}\n]\n`;
}

export function exportText(
  format: ExportFormat,
  columns: readonly ResultColumn[],
  rows: readonly CellValue[][],
): string {
  return format === 'csv' ? toCsv(columns, rows) : toJson(columns, rows);
}

function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((name) => {
    let unique = name;
    for (let suffix = 1; seen.has(unique); suffix++) {
      unique = `${name}_${suffix}`;
    }
    seen.add(unique);
    return unique;
  });
}
