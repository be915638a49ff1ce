// The enrichment view of the analysis webview: one card per indicator with its address type,
// GeoIP location and network, and each threat-intelligence provider's verdict, followed by a
// world map with a dot per located indicator. Everything goes into the DOM through textContent
// and setAttribute; reference links are only handed to the extension, which opens http(s) links.

import land from 'world-atlas/land-110m.json';
import type { EnrichResult, EnrichedIndicator, TiVerdict } from '../../src/lsp_ext_enrich';
import type { AnalysisLabels, AnalysisWebviewMessage } from '../../src/panels/analysis_protocol';
import { MAP_HEIGHT, MAP_WIDTH, landPath, project } from '../../src/world_map';
import { format, textElement } from '../results/dom';

const SVG = 'http://www.w3.org/2000/svg';

/** The land outline, built once on first use: about 50 kB of path data. */
let landOutline: string | undefined;

export function showEnrichment(
  content: HTMLElement,
  result: EnrichResult,
  labels: AnalysisLabels,
  post: (message: AnalysisWebviewMessage) => void,
): void {
  content.append(textElement('p', 'indicator-count', format(labels.indicatorCount, String(result.indicators.length))));
  if (result.truncated) {
    content.append(textElement('p', 'truncated', labels.indicatorsTruncated));
  }
  for (const problem of result.problems) {
    content.append(textElement('p', 'problem', problem));
  }
  content.append(worldMap(result.indicators, labels));
  for (const indicator of result.indicators) {
    content.append(indicatorCard(indicator, labels, post));
  }
}

function indicatorCard(
  indicator: EnrichedIndicator,
  labels: AnalysisLabels,
  post: (message: AnalysisWebviewMessage) => void,
): HTMLElement {
  const card = document.createElement('section');
  card.className = `indicator level-${worstSeverity(indicator.results)}`;
  const title = document.createElement('h2');
  title.className = 'indicator-title';
  title.append(textElement('span', 'indicator-type', indicator.type), textElement('code', 'indicator-value', indicator.value));
  card.append(title);

  const facts: [string, string][] = [];
  if (indicator.ipType !== null) {
    facts.push([labels.addressType, indicator.ipType]);
  }
  const location = indicator.location;
  if (location !== null) {
    const place = [location.city, location.country ?? location.countryCode].filter((part) => part !== null).join(', ');
    if (place !== '') {
      facts.push([labels.location, place]);
    }
    if (location.asn !== null) {
      facts.push([labels.network, `AS${location.asn} ${location.asOrganization ?? ''}`.trim()]);
    }
  }
  if (facts.length > 0) {
    const table = document.createElement('table');
    table.className = 'indicator-facts';
    for (const [name, value] of facts) {
      const row = document.createElement('tr');
      row.append(textElement('th', 'fact-name', name), textElement('td', 'fact-value', value));
      table.append(row);
    }
    card.append(table);
  }

  card.append(textElement('h3', 'section-title', labels.threatIntel));
  if (!indicator.tiConfigured) {
    card.append(textElement('p', 'no-providers', labels.noProviders));
  }
  if (indicator.results.length > 0) {
    const table = document.createElement('table');
    table.className = 'verdicts';
    for (const verdict of indicator.results) {
      table.append(verdictRow(verdict, labels, post));
    }
    card.append(table);
  }
  if (indicator.pending.length > 0) {
    card.append(textElement('p', 'pending', `${labels.pendingProviders}: ${indicator.pending.join(', ')}`));
  }
  return card;
}

function verdictRow(
  verdict: TiVerdict,
  labels: AnalysisLabels,
  post: (message: AnalysisWebviewMessage) => void,
): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.className = `verdict status-${cssToken(verdict.status)}`;
  const outcome = verdict.status === 'ok' ? verdict.verdict : verdict.status;
  const details = [verdict.summary, verdict.message ?? ''].filter((text) => text !== '').join(' ');
  const detailsCell = textElement('td', 'verdict-summary', details);
  if (verdict.details !== null) {
    detailsCell.title = verdict.details;
  }
  const linkCell = document.createElement('td');
  linkCell.className = 'verdict-link';
  const reference = verdict.reference;
  if (reference !== null) {
    const button = textElement('button', 'open-reference', labels.reference);
    button.type = 'button';
    button.title = reference;
    button.addEventListener('click', () => post({ type: 'openLink', url: reference }));
    linkCell.append(button);
  }
  row.append(
    textElement('td', 'verdict-provider', verdict.provider),
    textElement('td', `verdict-outcome outcome-${cssToken(outcome)}`, outcome),
    textElement('td', `verdict-severity severity-${cssToken(verdict.severity)}`, verdict.severity),
    detailsCell,
    linkCell,
  );
  return row;
}

function worldMap(indicators: EnrichedIndicator[], labels: AnalysisLabels): HTMLElement {
  const figure = document.createElement('figure');
  figure.className = 'world-map';
  const located = indicators.filter(
    (indicator) => indicator.location?.latitude != null && indicator.location.longitude != null,
  );
  if (located.length === 0) {
    figure.append(textElement('figcaption', 'map-caption', labels.noLocations));
    return figure;
  }

  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${MAP_WIDTH} ${MAP_HEIGHT}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', format(labels.mapCaption, String(located.length)));
  const water = document.createElementNS(SVG, 'rect');
  water.setAttribute('class', 'map-water');
  water.setAttribute('width', String(MAP_WIDTH));
  water.setAttribute('height', String(MAP_HEIGHT));
  const outline = document.createElementNS(SVG, 'path');
  outline.setAttribute('class', 'map-land');
  landOutline ??= landPath(land);
  outline.setAttribute('d', landOutline);
  svg.append(water, outline);

  for (const indicator of located) {
    const location = indicator.location;
    if (location?.latitude == null || location.longitude == null) {
      continue;
    }
    const point = project(location.longitude, location.latitude);
    const dot = document.createElementNS(SVG, 'circle');
    dot.setAttribute('class', `map-point level-${worstSeverity(indicator.results)}`);
    dot.setAttribute('cx', String(point.x));
    dot.setAttribute('cy', String(point.y));
    dot.setAttribute('r', '4');
    const tip = document.createElementNS(SVG, 'title');
    const place = [location.city, location.country ?? location.countryCode].filter((part) => part !== null).join(', ');
    tip.textContent = place === '' ? indicator.value : `${indicator.value} (${place})`;
    dot.append(tip);
    svg.append(dot);
  }
  figure.append(svg, textElement('figcaption', 'map-caption', format(labels.mapCaption, String(located.length))));
  return figure;
}

const SEVERITY_ORDER = ['unknown', 'information', 'warning', 'high'];

/** Returns the highest severity among the results, as a CSS class token. */
function worstSeverity(results: TiVerdict[]): string {
  let worst = 0;
  for (const result of results) {
    worst = Math.max(worst, SEVERITY_ORDER.indexOf(result.severity));
  }
  return SEVERITY_ORDER[worst];
}

/** Keeps only lowercase letters and dashes, so a provider's value cannot inject class names. */
function cssToken(value: string): string {
  return value.toLowerCase().replace(/[^a-z-]/g, '');
}
