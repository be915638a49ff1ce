// Finds a trailing `| render` operator in query text. The local engine does not run `render`, so
// the extension sends the query without it and keeps the chart kind and properties for the
// results panel. No `vscode` import, so unit tests run it in plain Node.

import type { RenderHint, RenderPropertyValue } from './lsp_ext';

/** Properties whose value is a list of column names, such as `ycolumns = A, B`. */
const LIST_PROPERTIES = new Set(['ycolumns', 'anomalycolumns', 'series']);

export interface SplitRender {
  /** Length of the query before the `|` that starts the render operator, trailing space removed. */
  queryLength: number;
  render: RenderHint;
}

/**
 * Returns the render operator that ends `text`, with the length of the query before it, or
 * undefined when the last operator at the top level is not `render`. Pipes inside strings,
 * comments and brackets do not count.
 */
export function splitRenderOperator(text: string): SplitRender | undefined {
  const pipe = lastTopLevelPipe(text);
  if (pipe === undefined) {
    return undefined;
  }
  const operator = /^\s*render\s+([A-Za-z_]\w*)\s*/.exec(text.slice(pipe + 1));
  if (operator === null) {
    return undefined;
  }
  const kind = operator[1].toLowerCase();
  const rest = stripTrailing(text.slice(pipe + 1 + operator[0].length));

  let properties: Record<string, RenderPropertyValue> = {};
  if (rest.length > 0) {
    const clause = /^with\s*\(([\s\S]*)\)$/i.exec(rest);
    if (clause === null) {
      return undefined;
    }
    properties = parseProperties(clause[1]);
  }

  const queryLength = text.slice(0, pipe).trimEnd().length;
  return { queryLength, render: { kind, properties } };
}

/** Removes trailing whitespace, `//` comments and a final `;`. */
function stripTrailing(text: string): string {
  const lines = text.split('\n').map((line) => {
    const comment = commentStart(line);
    return comment === undefined ? line : line.slice(0, comment);
  });
  return lines.join('\n').trim().replace(/;$/, '').trimEnd();
}

/** Returns where a `//` comment starts in one line, skipping `//` inside quotes. */
function commentStart(line: string): number | undefined {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote !== undefined) {
      if (char === '\\') {
        i++;
      } else if (char === quote) {
        quote = undefined;
      }
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '/' && line[i + 1] === '/') {
      return i;
    }
  }
  return undefined;
}

/**
 * Returns the offset of the last `|` outside strings, comments and brackets. Handles `'…'` and
 * `"…"` with backslash escapes, verbatim `@'…'` and `@"…"` with doubled quotes, and multi-line
 * ```` ``` ```` strings.
 */
function lastTopLevelPipe(text: string): number | undefined {
  let depth = 0;
  let last: number | undefined;
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (text.startsWith('```', i)) {
      const end = text.indexOf('```', i + 3);
      i = end < 0 ? text.length : end + 3;
    } else if (char === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
    } else if ((char === '@' || char === 'h' || char === 'H') && (text[i + 1] === '"' || text[i + 1] === "'")) {
      i = skipQuoted(text, i + 1, char === '@');
    } else if (char === '"' || char === "'") {
      i = skipQuoted(text, i, false);
    } else {
      if (char === '(' || char === '[' || char === '{') {
        depth++;
      } else if (char === ')' || char === ']' || char === '}') {
        depth = Math.max(0, depth - 1);
      } else if (char === '|' && depth === 0) {
        last = i;
      }
      i++;
    }
  }
  return last;
}

/** Returns the offset after the string literal whose opening quote is at `start`. */
function skipQuoted(text: string, start: number, verbatim: boolean): number {
  const quote = text[start];
  let i = start + 1;
  while (i < text.length) {
    const char = text[i];
    if (!verbatim && char === '\\') {
      i += 2;
      continue;
    }
    if (char === quote) {
      if (verbatim && text[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    if (char === '\n' && !verbatim) {
      return i;
    }
    i++;
  }
  return i;
}

/**
 * Parses `name = value, name = value` from a `with (...)` clause. A bare item after a list
 * property (`ycolumns = A, B`) joins that list. Quoted values lose their quotes, and `true`,
 * `false` and numbers become booleans and numbers.
 */
function parseProperties(clause: string): Record<string, RenderPropertyValue> {
  const properties: Record<string, RenderPropertyValue> = {};
  let listName: string | undefined;
  for (const item of splitTopLevel(clause)) {
    const equals = item.indexOf('=');
    if (equals < 0) {
      const list = listName === undefined ? undefined : properties[listName];
      if (Array.isArray(list) && item.length > 0) {
        list.push(unquote(item));
      }
      continue;
    }
    const name = item.slice(0, equals).trim().toLowerCase();
    const raw = item.slice(equals + 1).trim();
    if (LIST_PROPERTIES.has(name)) {
      properties[name] = raw.length > 0 ? [unquote(raw)] : [];
      listName = name;
    } else {
      properties[name] = parseScalar(raw);
      listName = undefined;
    }
  }
  return properties;
}

/** Splits at commas that are outside quotes and brackets, trimming each item. */
function splitTopLevel(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quote !== undefined) {
      current += char;
      if (char === '\\' && i + 1 < text.length) {
        current += text[++i];
      } else if (char === quote) {
        quote = undefined;
      }
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '(' || char === '[') {
      depth++;
    } else if (char === ')' || char === ']') {
      depth--;
    } else if (char === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  if (current.trim().length > 0) {
    items.push(current.trim());
  }
  return items;
}

function parseScalar(raw: string): RenderPropertyValue {
  const lower = raw.toLowerCase();
  if (lower === 'true' || lower === 'false') {
    return lower === 'true';
  }
  if (/^-?\d+(\.\d+)?$/.test(raw)) {
    return Number(raw);
  }
  return unquote(raw);
}

function unquote(raw: string): string {
  const match = /^(['"])([\s\S]*)\1$/.exec(raw);
  if (match === null) {
    return raw;
  }
  return match[2].replace(/\\(.)/g, '$1');
}
