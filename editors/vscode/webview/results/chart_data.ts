// Turns a result and its `render` hint into the series that a chart draws. No DOM access, so
// unit tests run it in Node.
//
// Column rules, from the "render operator" and "Time chart" pages of the Kusto documentation
// on Microsoft Learn:
// - x axis: the `xcolumn` property, else the first column. For timechart and anomalychart the
//   first datetime column is taken, because there the x axis is always time;
// - y axis: the `ycolumns` property, else every numeric column other than the x column;
// - series: the `series` property, whose combined values name a series, else the first string
//   column that is neither x nor y. Other string columns are ignored;
// - a `make-series` result, whose x and y cells are arrays, gives one series per row.

import type { CellValue, RenderHint, RenderPropertyValue, ResultColumn } from '../../src/lsp_ext';
import { NUMERIC_TYPES } from './grid_model';

/** Maximum points drawn over all series, because more make Chart.js slow to draw and hover. */
export const MAX_POINTS = 20_000;
/** Maximum series drawn. Further series are left out. */
export const MAX_SERIES = 50;

export type XyKind = 'line' | 'area' | 'scatter' | 'anomaly';
export type CategoryKind = 'bar' | 'column' | 'pie';

export interface Point {
  x: number;
  y: number;
}

export interface XySeries {
  name: string;
  points: Point[];
}

/** Options that several chart kinds share, read from the `with (...)` properties. */
export interface ChartOptions {
  title: string | undefined;
  xTitle: string | undefined;
  yTitle: string | undefined;
  legend: boolean;
  stacked: boolean;
  yMin: number | undefined;
  yMax: number | undefined;
}

export interface XyChart {
  type: 'xy';
  kind: XyKind;
  /** `time`: x values are milliseconds since the Unix epoch; `category`: indices into `categories`. */
  xAxis: 'time' | 'linear' | 'category';
  categories: string[];
  series: XySeries[];
  /** Points flagged by the `anomalycolumns` of an anomalychart, drawn on top of the series. */
  anomalies: Point[];
  options: ChartOptions;
  pointCount: number;
  totalPoints: number;
}

export interface CategoryChart {
  type: 'category';
  kind: CategoryKind;
  labels: string[];
  series: { name: string; values: number[] }[];
  options: ChartOptions;
  pointCount: number;
  totalPoints: number;
}

export type ChartData = XyChart | CategoryChart;

const XY_KINDS: Record<string, XyKind> = {
  timechart: 'line',
  linechart: 'line',
  areachart: 'area',
  scatterchart: 'scatter',
  anomalychart: 'anomaly',
};

const CATEGORY_KINDS: Record<string, CategoryKind> = {
  barchart: 'bar',
  columnchart: 'column',
  piechart: 'pie',
};

export function isSupportedKind(kind: string): boolean {
  return kind in XY_KINDS || kind in CATEGORY_KINDS;
}

/**
 * Returns the chart for a result, or undefined when the kind is unknown or the result has no
 * column that the kind can plot.
 */
export function buildChartData(
  columns: readonly ResultColumn[],
  rows: readonly CellValue[][],
  render: RenderHint,
): ChartData | undefined {
  const options = readOptions(render.properties);
  const xyKind = XY_KINDS[render.kind];
  if (xyKind !== undefined) {
    return buildXyChart(columns, rows, render, xyKind, options);
  }
  const categoryKind = CATEGORY_KINDS[render.kind];
  if (categoryKind !== undefined) {
    return buildCategoryChart(columns, rows, render, categoryKind, options);
  }
  return undefined;
}

function readOptions(properties: Record<string, RenderPropertyValue>): ChartOptions {
  const text = (name: string) => {
    const value = properties[name];
    return typeof value === 'string' ? value : undefined;
  };
  const number = (name: string) => {
    const value = properties[name];
    return typeof value === 'number' ? value : undefined;
  };
  return {
    title: text('title'),
    xTitle: text('xtitle'),
    yTitle: text('ytitle'),
    legend: text('legend')?.toLowerCase() !== 'hidden',
    stacked: ['stacked', 'stacked100'].includes(text('kind')?.toLowerCase() ?? ''),
    yMin: number('ymin'),
    yMax: number('ymax'),
  };
}

function columnIndex(columns: readonly ResultColumn[], name: string | undefined): number {
  if (name === undefined) {
    return -1;
  }
  const exact = columns.findIndex((column) => column.name === name);
  return exact >= 0 ? exact : columns.findIndex((column) => column.name.toLowerCase() === name.toLowerCase());
}

function listProperty(properties: Record<string, RenderPropertyValue>, name: string): string[] {
  const value = properties[name];
  if (Array.isArray(value)) {
    return value;
  }
  return typeof value === 'string' ? [value] : [];
}

/** True when the column contains numbers, or arrays of numbers as `make-series` produces. */
function isNumericColumn(columns: readonly ResultColumn[], rows: readonly CellValue[][], index: number): boolean {
  if (NUMERIC_TYPES.has(columns[index].type)) {
    return true;
  }
  if (columns[index].type !== 'dynamic') {
    return false;
  }
  const sample = rows.find((row) => row[index] !== null && row[index] !== undefined)?.[index];
  return Array.isArray(sample) && sample.every((item) => item === null || typeof item === 'number');
}

function chooseX(columns: readonly ResultColumn[], render: RenderHint): number {
  const named = columnIndex(columns, stringProperty(render.properties.xcolumn));
  if (named >= 0) {
    return named;
  }
  if (render.kind === 'timechart' || render.kind === 'anomalychart') {
    const datetime = columns.findIndex((column) => column.type === 'datetime');
    if (datetime >= 0) {
      return datetime;
    }
  }
  return columns.length > 0 ? 0 : -1;
}

function stringProperty(value: RenderPropertyValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function chooseY(
  columns: readonly ResultColumn[],
  rows: readonly CellValue[][],
  render: RenderHint,
  excluded: ReadonlySet<number>,
): number[] {
  const named = listProperty(render.properties, 'ycolumns')
    .map((name) => columnIndex(columns, name))
    .filter((index) => index >= 0);
  if (named.length > 0) {
    return named;
  }
  return columns
    .map((_, index) => index)
    .filter((index) => !excluded.has(index) && isNumericColumn(columns, rows, index));
}

function chooseSeries(
  columns: readonly ResultColumn[],
  render: RenderHint,
  excluded: ReadonlySet<number>,
): number[] {
  const named = listProperty(render.properties, 'series')
    .flatMap((name) => name.split(','))
    .map((name) => columnIndex(columns, name.trim()))
    .filter((index) => index >= 0);
  if (named.length > 0) {
    return named;
  }
  const first = columns.findIndex((column, index) => !excluded.has(index) && column.type === 'string');
  return first < 0 ? [] : [first];
}

/** Converts a cell to a number on the x axis: epoch milliseconds for datetimes. */
function xValue(value: CellValue, time: boolean): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value === 'string') {
    const parsed = time ? Date.parse(value) : Number(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

function yValue(value: CellValue): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value;
  }
  if (typeof value === 'boolean') {
    return value ? 1 : 0;
  }
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

function buildXyChart(
  columns: readonly ResultColumn[],
  rows: readonly CellValue[][],
  render: RenderHint,
  kind: XyKind,
  options: ChartOptions,
): XyChart | undefined {
  const x = chooseX(columns, render);
  if (x < 0) {
    return undefined;
  }
  const anomalyColumns =
    kind === 'anomaly'
      ? listProperty(render.properties, 'anomalycolumns')
          .map((name) => columnIndex(columns, name))
          .filter((index) => index >= 0)
      : [];
  const y = chooseY(columns, rows, render, new Set([x, ...anomalyColumns]));
  if (y.length === 0) {
    return undefined;
  }
  const seriesColumns = chooseSeries(columns, render, new Set([x, ...y, ...anomalyColumns]));

  // A make-series result contains arrays, so each row expands into one point per element.
  const sampleX = rows.find((row) => row[x] !== null && row[x] !== undefined)?.[x];
  const arrays = Array.isArray(sampleX);
  const firstX = arrays ? (sampleX as CellValue[]).find((item) => item !== null) : sampleX;
  const isTime =
    columns[x].type === 'datetime' ||
    (typeof firstX === 'string' && !Number.isNaN(Date.parse(firstX)) && Number.isNaN(Number(firstX)));
  const isCategory = !isTime && typeof firstX === 'string' && Number.isNaN(Number(firstX));
  const categories: string[] = [];
  const categoryIndex = new Map<string, number>();
  const toX = (value: CellValue): number | undefined => {
    if (isCategory) {
      const label = value === null || value === undefined ? '' : String(value);
      let index = categoryIndex.get(label);
      if (index === undefined) {
        index = categories.length;
        categories.push(label);
        categoryIndex.set(label, index);
      }
      return index;
    }
    return xValue(value, isTime);
  };

  const seriesByName = new Map<string, Point[]>();
  const anomalies: Point[] = [];
  let totalPoints = 0;
  let pointCount = 0;
  const addPoint = (name: string, point: Point) => {
    totalPoints++;
    let points = seriesByName.get(name);
    if (points === undefined) {
      if (seriesByName.size >= MAX_SERIES) {
        return;
      }
      points = [];
      seriesByName.set(name, points);
    }
    if (pointCount < MAX_POINTS) {
      points.push(point);
      pointCount++;
    }
  };

  for (const row of rows) {
    const group = seriesColumns.map((index) => cellText(row[index])).join(', ');
    let xs: CellValue[] = [row[x]];
    if (arrays) {
      xs = Array.isArray(row[x]) ? (row[x] as CellValue[]) : [];
    }
    xs.forEach((rawX, position) => {
      const pointX = toX(rawX);
      if (pointX === undefined) {
        return;
      }
      y.forEach((column, yPosition) => {
        const rawY = arrays ? arrayItem(row[column], position) : row[column];
        const pointY = yValue(rawY);
        if (pointY === undefined) {
          return;
        }
        addPoint(seriesName(group, columns[column].name, y.length), { x: pointX, y: pointY });
        if (yPosition === 0) {
          for (const anomaly of anomalyColumns) {
            const flag = yValue(arrays ? arrayItem(row[anomaly], position) : row[anomaly]);
            if (flag !== undefined && flag !== 0) {
              anomalies.push({ x: pointX, y: pointY });
            }
          }
        }
      });
    });
  }

  const series = Array.from(seriesByName, ([name, points]) => ({
    name,
    points: kind === 'scatter' ? points : points.sort((a, b) => a.x - b.x),
  }));
  let xAxis: XyChart['xAxis'] = 'linear';
  if (isTime) {
    xAxis = 'time';
  } else if (isCategory) {
    xAxis = 'category';
  }
  return {
    type: 'xy',
    kind,
    xAxis,
    categories,
    series,
    anomalies,
    options,
    pointCount,
    totalPoints,
  };
}

function buildCategoryChart(
  columns: readonly ResultColumn[],
  rows: readonly CellValue[][],
  render: RenderHint,
  kind: CategoryKind,
  options: ChartOptions,
): CategoryChart | undefined {
  let labelColumn = columnIndex(columns, stringProperty(render.properties.xcolumn));
  if (labelColumn < 0) {
    labelColumn = columns.findIndex((column) => column.type === 'string');
  }
  if (labelColumn < 0) {
    labelColumn = columns.length > 0 ? 0 : -1;
  }
  if (labelColumn < 0) {
    return undefined;
  }
  let y = chooseY(columns, rows, render, new Set([labelColumn]));
  if (kind === 'pie') {
    y = y.slice(0, 1);
  }
  if (y.length === 0) {
    return undefined;
  }
  const limit = Math.min(rows.length, Math.floor(MAX_POINTS / y.length));
  const shown = rows.slice(0, limit);
  return {
    type: 'category',
    kind,
    labels: shown.map((row) => cellText(row[labelColumn])),
    series: y.slice(0, MAX_SERIES).map((column) => ({
      name: columns[column].name,
      values: shown.map((row) => yValue(row[column]) ?? 0),
    })),
    options,
    pointCount: shown.length * y.length,
    totalPoints: rows.length * y.length,
  };
}

function seriesName(group: string, yColumn: string, yCount: number): string {
  if (group === '') {
    return yColumn;
  }
  return yCount > 1 ? `${group}: ${yColumn}` : group;
}

function arrayItem(value: CellValue, position: number): CellValue {
  return Array.isArray(value) ? (value[position] as CellValue) : undefined;
}

function cellText(value: CellValue): string {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}
