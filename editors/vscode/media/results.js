// @ts-check
// Script of the Quarry results webview. It receives messages from src/panels/results.ts, checks
// their shape (the same union as src/panels/protocol.ts) and builds the table with
// createElement and textContent only, so cell values from log data are never parsed as HTML.

(function () {
  'use strict';

  // @ts-ignore acquireVsCodeApi is defined by the webview host.
  const vscode = acquireVsCodeApi();

  /** Column types whose cells are right-aligned. */
  const NUMERIC_TYPES = new Set(['long', 'int', 'real', 'decimal', 'double']);

  const summary = requireElement('summary');
  const errorBox = requireElement('error');
  const results = requireElement('results');
  const labels = readLabels();

  window.addEventListener('message', (event) => {
    const message = parseExtensionMessage(event.data);
    if (message === undefined) {
      console.warn('Quarry results: ignored a message with an unexpected shape');
      return;
    }
    vscode.setState(message);
    render(message);
  });

  const saved = parseExtensionMessage(vscode.getState());
  if (saved === undefined) {
    renderEmpty();
  } else {
    render(saved);
  }
  vscode.postMessage({ type: 'ready' });

  /**
   * @param {string} id
   * @returns {HTMLElement}
   */
  function requireElement(id) {
    const element = document.getElementById(id);
    if (element === null) {
      throw new Error(`Quarry results: element #${id} is missing from the page`);
    }
    return element;
  }

  /** Reads the localised texts that the extension put in a meta tag. */
  function readLabels() {
    /** @type {Record<string, string>} */
    const fallback = {
      running: 'Running query…',
      rowCountOne: '1 row',
      rowCount: '{0} rows',
      truncated: 'Showing the first {0} of {1} rows.',
      elapsed: '{0} ms',
      source: 'Source: {0}',
      noRows: 'The query returned no rows.',
      errorTitle: 'The query failed',
      errorLocation: 'Line {0}, column {1}',
      empty: 'Run a query to see its rows here.',
    };
    const meta = document.querySelector('meta[name="quarry-labels"]');
    const content = meta === null ? null : meta.getAttribute('content');
    if (content === null) {
      return fallback;
    }
    try {
      const parsed = JSON.parse(content);
      /** @type {Record<string, string>} */
      const merged = { ...fallback };
      for (const key of Object.keys(fallback)) {
        if (typeof parsed[key] === 'string') {
          merged[key] = parsed[key];
        }
      }
      return merged;
    } catch {
      return fallback;
    }
  }

  /**
   * Returns `value` when it is one of the extension's messages, else undefined.
   * @param {unknown} value
   */
  function parseExtensionMessage(value) {
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

  /**
   * @param {unknown} value
   * @returns {value is Record<string, any>}
   */
  function isRecord(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }

  /** @param {unknown} value */
  function isCount(value) {
    return typeof value === 'number' && Number.isInteger(value) && value >= 0;
  }

  /** @param {unknown} value */
  function isLocation(value) {
    return isRecord(value) && isCount(value.line) && isCount(value.character);
  }

  /** @param {unknown} value */
  function isResult(value) {
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
        (column) =>
          isRecord(column) && typeof column.name === 'string' && typeof column.type === 'string',
      ) &&
      Array.isArray(rows) &&
      rows.every((row) => Array.isArray(row) && row.length === columns.length) &&
      isCount(value.rowCount) &&
      typeof value.truncated === 'boolean' &&
      typeof value.elapsedMs === 'number' &&
      Number.isFinite(value.elapsedMs)
    );
  }

  /** @param {any} message */
  function render(message) {
    switch (message.type) {
      case 'running':
        renderRunning();
        break;
      case 'result':
        renderResult(message.result);
        break;
      case 'error':
        renderError(message.message, message.location);
        break;
    }
  }

  function clear() {
    summary.replaceChildren();
    errorBox.replaceChildren();
    errorBox.hidden = true;
    results.replaceChildren();
    document.body.classList.remove('running');
  }

  function renderEmpty() {
    clear();
    summary.append(textElement('span', 'hint', labels.empty));
  }

  function renderRunning() {
    clear();
    document.body.classList.add('running');
    summary.append(textElement('span', 'status', labels.running));
  }

  /** @param {any} result */
  function renderResult(result) {
    clear();

    summary.append(
      textElement(
        'span',
        'row-count',
        result.rowCount === 1 ? labels.rowCountOne : format(labels.rowCount, String(result.rowCount)),
      ),
      textElement('span', 'elapsed', format(labels.elapsed, formatElapsed(result.elapsedMs))),
      textElement('span', 'source', format(labels.source, result.source)),
    );
    if (result.truncated) {
      summary.append(
        textElement(
          'span',
          'truncated',
          format(labels.truncated, String(result.rows.length), String(result.rowCount)),
        ),
      );
    }

    if (result.rows.length === 0) {
      results.append(textElement('p', 'no-rows', labels.noRows));
    }
    results.append(buildTable(result.columns, result.rows));
  }

  /**
   * @param {{name: string, type: string}[]} columns
   * @param {unknown[][]} rows
   */
  function buildTable(columns, rows) {
    const table = document.createElement('table');
    table.className = 'grid';

    const headerRow = document.createElement('tr');
    for (const column of columns) {
      const header = document.createElement('th');
      header.scope = 'col';
      header.append(
        textElement('span', 'column-name', column.name),
        textElement('span', 'column-type', column.type),
      );
      headerRow.append(header);
    }
    const head = document.createElement('thead');
    head.append(headerRow);

    const numeric = columns.map((column) => NUMERIC_TYPES.has(column.type));
    const body = document.createElement('tbody');
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      const tableRow = document.createElement('tr');
      row.forEach((value, index) => {
        const cell = document.createElement('td');
        if (value === null || value === undefined) {
          cell.className = 'null';
        } else {
          cell.textContent = formatCell(value);
          if (numeric[index]) {
            cell.className = 'number';
          }
        }
        tableRow.append(cell);
      });
      fragment.append(tableRow);
    }
    body.append(fragment);

    table.append(head, body);
    return table;
  }

  /**
   * @param {string} message
   * @param {{line: number, character: number} | null} location
   */
  function renderError(message, location) {
    clear();
    errorBox.hidden = false;
    errorBox.append(
      textElement('h2', 'error-title', labels.errorTitle),
      textElement('pre', 'error-message', message),
    );
    if (location !== null) {
      const button = textElement(
        'button',
        'error-location',
        format(labels.errorLocation, String(location.line + 1), String(location.character + 1)),
      );
      button.addEventListener('click', () => vscode.postMessage({ type: 'revealError' }));
      errorBox.append(button);
    }
  }

  /**
   * Returns the display text of a cell: strings as they are, JSON for dynamic values.
   * @param {unknown} value
   */
  function formatCell(value) {
    if (typeof value === 'string') {
      return value;
    }
    if (typeof value === 'number' || typeof value === 'boolean') {
      return String(value);
    }
    return JSON.stringify(value);
  }

  /** @param {number} milliseconds */
  function formatElapsed(milliseconds) {
    return milliseconds < 10 ? milliseconds.toFixed(1) : String(Math.round(milliseconds));
  }

  /**
   * Fills `{0}`, `{1}`, … in a label. The result is only ever assigned to textContent.
   * @param {string} template
   * @param {...string} values
   */
  function format(template, ...values) {
    return template.replace(/\{(\d+)\}/g, (placeholder, index) => {
      const value = values[Number(index)];
      return value === undefined ? placeholder : value;
    });
  }

  /**
   * @param {string} tag
   * @param {string} className
   * @param {string} text
   */
  function textElement(tag, className, text) {
    const element = document.createElement(tag);
    element.className = className;
    element.textContent = text;
    return element;
  }
})();
