// Messages between the analysis panel (src/panels/analysis.ts) and its webview script, bundled
// from webview/analysis/ into media/analysis.js. Both sides check what they receive with the
// parsers below. No `vscode` import, so unit tests and the webview bundle load it.

import {
  type DecodeResult,
  type ProcessTreeResult,
  type TimeseriesResult,
  parseDecodeResult,
  parseProcessTreeResult,
  parseTimeseriesResult,
} from '../lsp_ext_analyze';
import { type Alert, parseAlerts } from '../alerts';
import { type EnrichResult, parseEnrichResult, safeExternalLink } from '../lsp_ext_enrich';
import { type SequencesResult, parseSequencesResult } from '../lsp_ext_sequences';
import { type Timeline, parseTimeline } from '../timeline';

/** Messages that the extension posts to the analysis webview. */
export type AnalysisMessage =
  | { type: 'timeseries'; title: string; result: TimeseriesResult }
  | { type: 'processTree'; title: string; result: ProcessTreeResult }
  | { type: 'decode'; title: string; input: string; result: DecodeResult }
  /** `omitted`: rows of the result left out after the first alerts. */
  | { type: 'alerts'; title: string; alerts: Alert[]; omitted: number }
  /** Indicators with their address type, GeoIP location and threat-intelligence results. */
  | { type: 'enrichment'; title: string; result: EnrichResult }
  /** Command sessions sorted rarest first, with each session's rarest window marked. */
  | { type: 'sessions'; title: string; result: SequencesResult }
  /** Events on a time axis, one series per group, with reference markers. */
  | { type: 'timeline'; title: string; timeline: Timeline };

/** Messages that the analysis webview posts to the extension. */
export type AnalysisWebviewMessage =
  /** The script has loaded; the extension then posts the current analysis. */
  | { type: 'ready' }
  /** The user clicked a copy button; the extension puts `text` on the clipboard. */
  | { type: 'copy'; text: string }
  /** The user clicked Pivot on an alert's entity; the extension lists the pivot templates. */
  | { type: 'pivot'; entity: string; value: string }
  /** The user clicked a provider's reference link; the extension opens it if it is http(s). */
  | { type: 'openLink'; url: string };

/** Localised texts of the analysis webview. `{0}` and `{1}` are filled in by the script. */
export interface AnalysisLabels {
  empty: string;
  value: string;
  baseline: string;
  anomaly: string;
  /** `{0}`: number of anomalous points, `{1}`: number of points. */
  anomalyCount: string;
  periods: string;
  noPeriods: string;
  kqlFilter: string;
  copy: string;
  /** `{0}`: processes, `{1}`: root processes, `{2}`: deepest level. */
  processSummary: string;
  /** `{0}`: processes drawn, `{1}`: processes in the tree. */
  processesTruncated: string;
  inferred: string;
  /** `{0}`: number of decoded layers. */
  layerCount: string;
  input: string;
  indicators: string;
  noIndicators: string;
  limits: string;
  /** `{0}`: size in bytes. */
  bytes: string;
  /** `{0}`: number of alerts. */
  alertCount: string;
  /** `{0}`: rows left out after the first alerts. */
  alertsOmitted: string;
  entities: string;
  extendedProperties: string;
  pivot: string;
  /** `{0}`: number of indicators. */
  indicatorCount: string;
  indicatorsTruncated: string;
  addressType: string;
  location: string;
  network: string;
  threatIntel: string;
  noProviders: string;
  pendingProviders: string;
  reference: string;
  noLocations: string;
  /** `{0}`: indicators placed on the map. */
  mapCaption: string;
  /** `{0}`: number of sessions, `{1}`: window length. */
  sessionCount: string;
  user: string;
  start: string;
  events: string;
  likelihood: string;
  commands: string;
  noScore: string;
  /** `{0}`: events drawn, `{1}`: number of series. */
  timelineSummary: string;
  /** `{0}`: rows not drawn. */
  eventsOmitted: string;
}

/** Returns `value` as an `AnalysisMessage`, or undefined when it is not one. */
export function parseAnalysisMessage(value: unknown): AnalysisMessage | undefined {
  if (!isRecord(value) || typeof value.title !== 'string') {
    return undefined;
  }
  try {
    switch (value.type) {
      case 'timeseries':
        return { type: 'timeseries', title: value.title, result: parseTimeseriesResult(value.result) };
      case 'processTree':
        return { type: 'processTree', title: value.title, result: parseProcessTreeResult(value.result) };
      case 'alerts': {
        const alerts = parseAlerts(value.alerts);
        const omitted = value.omitted;
        if (alerts === undefined || typeof omitted !== 'number' || !Number.isInteger(omitted) || omitted < 0) {
          return undefined;
        }
        return { type: 'alerts', title: value.title, alerts, omitted };
      }
      case 'sessions':
        return { type: 'sessions', title: value.title, result: parseSequencesResult(value.result) };
      case 'timeline':
        return { type: 'timeline', title: value.title, timeline: parseTimeline(value.timeline) };
      case 'enrichment':
        return { type: 'enrichment', title: value.title, result: parseEnrichResult(value.result) };
      case 'decode':
        if (typeof value.input !== 'string') {
          return undefined;
        }
        return { type: 'decode', title: value.title, input: value.input, result: parseDecodeResult(value.result) };
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** Returns `value` as an `AnalysisWebviewMessage`, or undefined when it is not one. */
export function parseAnalysisWebviewMessage(value: unknown): AnalysisWebviewMessage | undefined {
  if (!isRecord(value)) {
    return undefined;
  }
  if (value.type === 'ready') {
    return { type: 'ready' };
  }
  if (value.type === 'copy' && typeof value.text === 'string') {
    return { type: 'copy', text: value.text };
  }
  if (value.type === 'pivot' && typeof value.entity === 'string' && typeof value.value === 'string') {
    return { type: 'pivot', entity: value.entity, value: value.value };
  }
  if (value.type === 'openLink') {
    const url = safeExternalLink(value.url);
    return url === null ? undefined : { type: 'openLink', url };
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
