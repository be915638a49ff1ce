// The results grid: a table that keeps only the rows in view in the DOM, so that 100,000 rows
// scroll smoothly. Sorting by column, a filter box, column resizing, copying and export live here;
// the data operations behind them are in grid_model.ts.

import type { CellValue, RunQueryResult } from '../../src/lsp_ext';
import { type CellAction, MAX_CELL_ACTION_TEXT, type ResultsLabels } from '../../src/panels/protocol';
import type { ExportFormat } from '../../src/export';
import { format, textElement } from './dom';
import {
  type CellPosition,
  type SortState,
  estimateColumnWidth,
  filterOrder,
  formatCell,
  nextSort,
  NUMERIC_TYPES,
  rectangle,
  rectangleText,
  searchTexts,
  sortedOrder,
  visibleWindow,
} from './grid_model';

/** Row height used until a rendered row can be measured, in pixels. */
const DEFAULT_ROW_HEIGHT = 24;
/** Viewport height used when the box has no layout yet, as in jsdom, in pixels. */
const DEFAULT_VIEWPORT_HEIGHT = 600;
/** Rows rendered above and below the viewport, so that short scrolls show no blank rows. */
const OVERSCAN_ROWS = 10;
/** Narrowest width a column can be dragged to, in pixels. */
const MIN_COLUMN_WIDTH = 40;
/** Approximate width of one character of the editor font, for starting column widths. */
const CHAR_WIDTH = 7.5;

/** Callbacks that the grid needs from the page around it. */
export interface GridHost {
  copy(text: string): void;
  /** Pivot on or enrich the focused cell's text. */
  cellAction(action: CellAction, value: string, column: string): void;
  exportRows(format: ExportFormat, rows: CellValue[][]): void;
}

export class Grid {
  private readonly table: HTMLTableElement;
  private readonly headerCells: HTMLTableCellElement[] = [];
  private readonly cols: HTMLTableColElement[] = [];
  private readonly body: HTMLTableSectionElement;
  private readonly filterBox: HTMLInputElement;
  private readonly matchCount: HTMLElement;
  private readonly selectionButtons: HTMLButtonElement[] = [];
  private readonly texts: string[];
  private readonly widths: number[];
  private readonly cleanups: (() => void)[] = [];

  private sort: SortState | undefined;
  private filter = '';
  /** Result row indices in sorted order, before filtering. */
  private sorted: number[];
  /** Result row indices of the rows in view, in display order. */
  private view: number[];
  private anchor: CellPosition | undefined;
  private focus: CellPosition | undefined;
  private rowHeight = DEFAULT_ROW_HEIGHT;
  private rendered = { start: -1, end: -1 };

  constructor(
    private readonly box: HTMLElement,
    private readonly toolbar: HTMLElement,
    private readonly result: RunQueryResult,
    private readonly labels: ResultsLabels,
    private readonly host: GridHost,
  ) {
    const { columns, rows } = result;
    this.texts = searchTexts(rows);
    this.sorted = sortedOrder(rows, columns, undefined);
    this.view = this.sorted.slice();
    this.widths = columns.map((column, index) => estimateColumnWidth(column, rows, index, CHAR_WIDTH));

    this.filterBox = document.createElement('input');
    this.matchCount = textElement('span', 'filter-count', '');
    this.buildToolbar();

    this.table = document.createElement('table');
    this.table.className = 'grid';
    this.table.setAttribute('role', 'grid');
    this.table.setAttribute('aria-rowcount', String(rows.length + 1));
    this.table.setAttribute('aria-colcount', String(columns.length));
    this.body = document.createElement('tbody');
    this.table.append(this.buildColumns(), this.buildHeader(), this.body);
    this.applyWidths();
    box.tabIndex = 0;
    box.append(this.table);

    this.listen(box, 'scroll', () => this.renderRows(false));
    this.listen(box, 'keydown', (event) => this.onKeyDown(event as KeyboardEvent));
    this.listen(this.body, 'mousedown', (event) => this.onCellMouseDown(event as MouseEvent));

    this.renderRows(true);
    this.measureRowHeight();
    this.updateMatchCount();
  }

  /** Removes the grid's listeners and elements. */
  dispose(): void {
    for (const cleanup of this.cleanups.splice(0)) {
      cleanup();
    }
    this.table.remove();
    this.toolbar.replaceChildren();
    this.toolbar.hidden = true;
  }

  setFilter(filter: string): void {
    this.filter = filter;
    this.filterBox.value = filter;
    this.applyOrder();
  }

  setSort(sort: SortState | undefined): void {
    this.sort = sort;
    this.sorted = sortedOrder(this.result.rows, this.result.columns, sort);
    this.headerCells.forEach((cell, index) => {
      const direction = sort?.column === index ? sort.direction : 'none';
      cell.setAttribute('aria-sort', direction);
    });
    this.applyOrder();
  }

  copyCell(): void {
    const focus = this.focus;
    if (focus === undefined) {
      return;
    }
    this.host.copy(formatCell(this.result.rows[this.view[focus.row]][focus.column]));
  }

  /** Sends the focused cell's text for pivots, enrichment or decoding; empty cells are skipped. */
  cellAction(action: CellAction): void {
    const focus = this.focus;
    if (focus === undefined) {
      return;
    }
    const text = formatCell(this.result.rows[this.view[focus.row]][focus.column]);
    if (text.trim() === '' || text.length > MAX_CELL_ACTION_TEXT) {
      return;
    }
    this.host.cellAction(action, text, this.result.columns[focus.column].name);
  }

  copyRow(): void {
    const focus = this.focus;
    if (focus === undefined) {
      return;
    }
    const area = { top: focus.row, bottom: focus.row, left: 0, right: this.result.columns.length - 1 };
    this.host.copy(rectangleText(this.result.rows, this.view, area));
  }

  copySelection(): void {
    if (this.anchor === undefined || this.focus === undefined) {
      return;
    }
    this.host.copy(rectangleText(this.result.rows, this.view, rectangle(this.anchor, this.focus)));
  }

  exportRows(exportFormat: ExportFormat): void {
    this.host.exportRows(
      exportFormat,
      this.view.map((index) => this.result.rows[index]),
    );
  }

  private listen(target: EventTarget, type: string, handler: (event: Event) => void): void {
    target.addEventListener(type, handler);
    this.cleanups.push(() => target.removeEventListener(type, handler));
  }

  private buildToolbar(): void {
    const toolbar = this.toolbar;
    toolbar.replaceChildren();
    toolbar.hidden = false;

    this.filterBox.type = 'search';
    this.filterBox.className = 'filter';
    this.filterBox.placeholder = this.labels.filterPlaceholder;
    this.filterBox.setAttribute('aria-label', this.labels.filterPlaceholder);
    this.listen(this.filterBox, 'input', () => {
      this.filter = this.filterBox.value;
      this.applyOrder();
    });

    const button = (className: string, label: string, action: () => void, needsSelection: boolean) => {
      const element = textElement('button', className, label);
      element.type = 'button';
      this.listen(element, 'click', action);
      if (needsSelection) {
        element.disabled = true;
        this.selectionButtons.push(element);
      }
      return element;
    };

    toolbar.append(
      this.filterBox,
      this.matchCount,
      button('copy-cell', this.labels.copyCell, () => this.copyCell(), true),
      button('copy-row', this.labels.copyRow, () => this.copyRow(), true),
      button('copy-selection', this.labels.copySelection, () => this.copySelection(), true),
      button('pivot-cell', this.labels.pivotCell, () => this.cellAction('pivot'), true),
      button('enrich-cell', this.labels.enrichCell, () => this.cellAction('enrich'), true),
      button('decode-cell', this.labels.decodeCell, () => this.cellAction('decode'), true),
      button('export-csv', this.labels.exportCsv, () => this.exportRows('csv'), false),
      button('export-json', this.labels.exportJson, () => this.exportRows('json'), false),
    );
  }

  private buildColumns(): HTMLTableColElement {
    const group = document.createElement('colgroup');
    for (let index = 0; index < this.result.columns.length; index++) {
      const col = document.createElement('col');
      this.cols.push(col);
      group.append(col);
    }
    return group as HTMLTableColElement;
  }

  private buildHeader(): HTMLTableSectionElement {
    const headerRow = document.createElement('tr');
    headerRow.setAttribute('aria-rowindex', '1');
    this.result.columns.forEach((column, index) => {
      const header = document.createElement('th');
      header.scope = 'col';
      header.tabIndex = 0;
      header.title = this.labels.sortHint;
      header.setAttribute('aria-sort', 'none');
      const handle = textElement('span', 'resize-handle', '');
      handle.title = this.labels.resizeHint;
      header.append(
        textElement('span', 'column-name', column.name),
        textElement('span', 'column-type', column.type),
        handle,
      );
      this.listen(header, 'click', (event) => {
        if (event.target !== handle) {
          this.setSort(nextSort(this.sort, index));
        }
      });
      this.listen(header, 'keydown', (event) => {
        const key = (event as KeyboardEvent).key;
        if (key === 'Enter' || key === ' ') {
          event.preventDefault();
          this.setSort(nextSort(this.sort, index));
        }
      });
      this.listen(handle, 'mousedown', (event) => this.startResize(event as MouseEvent, index));
      this.listen(handle, 'dblclick', () => {
        this.widths[index] = estimateColumnWidth(column, this.result.rows, index, CHAR_WIDTH);
        this.applyWidths();
      });
      this.headerCells.push(header);
      headerRow.append(header);
    });
    const head = document.createElement('thead');
    head.append(headerRow);
    return head;
  }

  /** Sets the width of one column in pixels, at least `MIN_COLUMN_WIDTH`. */
  resizeColumn(index: number, width: number): void {
    this.widths[index] = Math.max(MIN_COLUMN_WIDTH, Math.round(width));
    this.applyWidths();
  }

  private applyWidths(): void {
    // With `table-layout: fixed`, the col widths and the table width decide the layout.
    this.widths.forEach((width, index) => {
      this.cols[index].style.width = `${width}px`;
    });
    this.table.style.width = `${this.widths.reduce((sum, width) => sum + width, 0)}px`;
  }

  private startResize(event: MouseEvent, index: number): void {
    event.preventDefault();
    event.stopPropagation();
    const startX = event.clientX;
    const startWidth = this.widths[index];
    const onMove = (move: MouseEvent) => this.resizeColumn(index, startWidth + move.clientX - startX);
    const onUp = () => {
      window.removeEventListener('mousemove', onMove);
      window.removeEventListener('mouseup', onUp);
      document.body.classList.remove('resizing');
    };
    document.body.classList.add('resizing');
    window.addEventListener('mousemove', onMove);
    window.addEventListener('mouseup', onUp);
  }

  /** Recomputes the rows in view after a sort or filter change, and scrolls to the top. */
  private applyOrder(): void {
    this.view = filterOrder(this.sorted, this.texts, this.filter);
    this.anchor = undefined;
    this.focus = undefined;
    this.updateSelectionButtons();
    this.updateMatchCount();
    this.box.scrollTop = 0;
    this.renderRows(true);
  }

  private updateMatchCount(): void {
    this.matchCount.textContent = format(
      this.labels.filterMatches,
      String(this.view.length),
      String(this.result.rows.length),
    );
  }

  private updateSelectionButtons(): void {
    for (const button of this.selectionButtons) {
      button.disabled = this.focus === undefined;
    }
  }

  /** Puts the rows in view into the DOM, unless the same rows are there and `force` is false. */
  private renderRows(force: boolean): void {
    const viewport = this.box.clientHeight || DEFAULT_VIEWPORT_HEIGHT;
    const range = visibleWindow(this.box.scrollTop, viewport, this.rowHeight, this.view.length, OVERSCAN_ROWS);
    if (!force && range.start === this.rendered.start && range.end === this.rendered.end) {
      return;
    }
    this.rendered = range;

    const { columns, rows } = this.result;
    const numeric = columns.map((column) => NUMERIC_TYPES.has(column.type));
    const area = this.anchor && this.focus ? rectangle(this.anchor, this.focus) : undefined;
    const fragment = document.createDocumentFragment();
    fragment.append(this.spacer(range.start));
    for (let viewRow = range.start; viewRow < range.end; viewRow++) {
      const row = rows[this.view[viewRow]];
      const tableRow = document.createElement('tr');
      tableRow.className = 'row';
      tableRow.dataset.viewRow = String(viewRow);
      tableRow.setAttribute('aria-rowindex', String(viewRow + 2));
      const inRows = area !== undefined && viewRow >= area.top && viewRow <= area.bottom;
      row.forEach((value, column) => {
        const cell = document.createElement('td');
        const classes: string[] = [];
        if (value === null || value === undefined) {
          classes.push('null');
        } else {
          cell.append(textElement('div', 'cell', formatCell(value)));
          if (numeric[column]) {
            classes.push('number');
          }
        }
        if (inRows && column >= area.left && column <= area.right) {
          classes.push('selected');
        }
        if (this.focus?.row === viewRow && this.focus.column === column) {
          classes.push('active');
        }
        cell.className = classes.join(' ');
        tableRow.append(cell);
      });
      fragment.append(tableRow);
    }
    fragment.append(this.spacer(this.view.length - range.end));
    this.body.replaceChildren(fragment);
  }

  /** Returns an empty row as tall as `count` rows outside the window. */
  private spacer(count: number): HTMLTableRowElement {
    const row = document.createElement('tr');
    row.className = 'spacer';
    row.setAttribute('aria-hidden', 'true');
    const cell = document.createElement('td');
    cell.colSpan = Math.max(1, this.result.columns.length);
    row.append(cell);
    row.style.height = `${count * this.rowHeight}px`;
    if (count === 0) {
      row.hidden = true;
    }
    return row;
  }

  /** Measures a rendered row, because the row height depends on the editor font size. */
  private measureRowHeight(): void {
    const first = this.body.querySelector('tr.row');
    const height = first?.getBoundingClientRect().height ?? 0;
    if (height > 0 && Math.abs(height - this.rowHeight) > 0.01) {
      this.rowHeight = height;
      this.renderRows(true);
    }
  }

  private onCellMouseDown(event: MouseEvent): void {
    const cell = (event.target as Element | null)?.closest('td');
    const row = cell?.parentElement;
    if (cell === null || cell === undefined || !(row instanceof HTMLTableRowElement) || row.dataset.viewRow === undefined) {
      return;
    }
    const position = { row: Number(row.dataset.viewRow), column: cell.cellIndex };
    if (event.shiftKey && this.anchor !== undefined) {
      this.focus = position;
    } else {
      this.anchor = position;
      this.focus = position;
    }
    this.box.focus();
    this.updateSelectionButtons();
    this.renderRows(true);
  }

  private onKeyDown(event: KeyboardEvent): void {
    const modifier = event.ctrlKey || event.metaKey;
    if (modifier && event.key.toLowerCase() === 'c') {
      event.preventDefault();
      this.copySelection();
      return;
    }

    if (modifier && event.key.toLowerCase() === 'a') {
      event.preventDefault();
      if (this.view.length > 0) {
        this.anchor = { row: 0, column: 0 };
        this.focus = { row: this.view.length - 1, column: this.result.columns.length - 1 };
        this.updateSelectionButtons();
        this.renderRows(true);
      }
      return;
    }

    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const move = moves[event.key];
    if (move === undefined || this.focus === undefined) {
      return;
    }
    event.preventDefault();

    const next = {
      row: clamp(this.focus.row + move[0], 0, this.view.length - 1),
      column: clamp(this.focus.column + move[1], 0, this.result.columns.length - 1),
    };
    if (!event.shiftKey) {
      this.anchor = next;
    }
    this.focus = next;
    this.scrollRowIntoView(next.row);
    this.renderRows(true);
  }

  private scrollRowIntoView(viewRow: number): void {
    const header = this.table.tHead?.getBoundingClientRect().height ?? 0;
    const visible = (this.box.clientHeight || DEFAULT_VIEWPORT_HEIGHT) - header;
    const top = viewRow * this.rowHeight;
    if (top < this.box.scrollTop) {
      this.box.scrollTop = top;
    } else if (top + this.rowHeight > this.box.scrollTop + visible) {
      this.box.scrollTop = top + this.rowHeight - visible;
    }
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
