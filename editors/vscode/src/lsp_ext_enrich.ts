// The `quarry/enrich` request of docs/lsp-extensions.md: the address type, GeoIP location and
// threat-intelligence results of every indicator in a text. The parser runs on the server's
// response in the extension and again on the message that reaches the analysis webview. No
// `vscode` import, so unit tests and the webview bundle load it.

import { InvalidResponseError } from './lsp_ext';
import {
  optionalString,
  requireArray,
  requireBoolean,
  requireNumber,
  requireRecord,
  requireString,
  requireStrings,
} from './lsp_ext_check';

export const ENRICH_REQUEST = 'quarry/enrich';

export interface EnrichParams {
  /** The text to read indicators from: a selection or a result cell. */
  text: string;
  /** How long the server waits for slow providers, in milliseconds. */
  waitMs?: number;
}

export interface GeoLocation {
  countryCode: string | null;
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  asn: number | null;
  asOrganization: string | null;
}

export interface TiVerdict {
  provider: string;
  status: string;
  verdict: string;
  severity: string;
  summary: string;
  /** Provider-specific fields as JSON text, or null when there are none. */
  details: string | null;
  /** A web page about the indicator; only http and https links are kept. */
  reference: string | null;
  message: string | null;
  cached: boolean;
}

export interface EnrichedIndicator {
  value: string;
  type: string;
  defanged: boolean;
  /** `public`, `private`, `loopback` and so on, for IP addresses only. */
  ipType: string | null;
  location: GeoLocation | null;
  /** False when no threat-intelligence provider is configured. */
  tiConfigured: boolean;
  results: TiVerdict[];
  /** Providers whose result had not arrived when the server stopped waiting. */
  pending: string[];
}

export interface EnrichResult {
  indicators: EnrichedIndicator[];
  /** True when the text held more indicators than one request looks up. */
  truncated: boolean;
  /** Configuration problems, such as a provider without its API key. */
  problems: string[];
}

/**
 * Returns `link` when it is an absolute http or https URL, otherwise null. Only such links are
 * shown as links and handed to the browser; a provider could send `command:` or `file:` URLs.
 */
export function safeExternalLink(link: unknown): string | null {
  if (typeof link !== 'string' || link.length > 2_048) {
    return null;
  }
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return null;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '' || url.username !== '' || url.password !== '') {
    return null;
  }
  return url.toString();
}

/** Checks a `quarry/enrich` result, as the server sends it or as the webview receives it. */
export function parseEnrichResult(value: unknown): EnrichResult {
  const method = ENRICH_REQUEST;
  const record = requireRecord(value, 'result', method);
  const indicators = requireArray(record.indicators, 'indicators', method).map((item, index) =>
    parseIndicator(item, `indicators[${index}]`),
  );
  return {
    indicators,
    truncated: requireBoolean(record.truncated, 'truncated', method),
    problems: requireStrings(record.problems, 'problems', method),
  };
}

function parseIndicator(value: unknown, field: string): EnrichedIndicator {
  const method = ENRICH_REQUEST;
  const record = requireRecord(value, field, method);
  return {
    value: requireString(record.value, `${field}.value`, method),
    type: requireString(record.type, `${field}.type`, method),
    defanged: requireBoolean(record.defanged, `${field}.defanged`, method),
    ipType: nullableString(record.ipType, `${field}.ipType`),
    location: parseLocation(record.location, `${field}.location`),
    tiConfigured: requireBoolean(record.tiConfigured, `${field}.tiConfigured`, method),
    results: requireArray(record.results, `${field}.results`, method).map((item, index) =>
      parseVerdict(item, `${field}.results[${index}]`),
    ),
    pending: requireStrings(record.pending, `${field}.pending`, method),
  };
}

function parseLocation(value: unknown, field: string): GeoLocation | null {
  if (value === null || value === undefined) {
    return null;
  }
  // The server sends the GeoIP fields in snake_case; the webview message uses camelCase.
  const record = requireRecord(value, field, ENRICH_REQUEST);
  const pick = (snake: string, camel: string): unknown => record[camel] ?? record[snake];
  return {
    countryCode: nullableString(pick('country_code', 'countryCode'), `${field}.country_code`),
    country: nullableString(record.country, `${field}.country`),
    city: nullableString(record.city, `${field}.city`),
    latitude: coordinate(record.latitude, 90, `${field}.latitude`),
    longitude: coordinate(record.longitude, 180, `${field}.longitude`),
    asn: nullableNumber(record.asn, `${field}.asn`),
    asOrganization: nullableString(pick('as_organization', 'asOrganization'), `${field}.as_organization`),
  };
}

function parseVerdict(value: unknown, field: string): TiVerdict {
  const method = ENRICH_REQUEST;
  const record = requireRecord(value, field, method);
  let details: string | null = null;
  if (typeof record.details === 'string') {
    details = record.details;
  } else if (record.details !== null && record.details !== undefined) {
    details = JSON.stringify(record.details);
  }
  return {
    provider: requireString(record.provider, `${field}.provider`, method),
    status: requireString(record.status, `${field}.status`, method),
    verdict: requireString(record.verdict, `${field}.verdict`, method),
    severity: requireString(record.severity, `${field}.severity`, method),
    summary: requireString(record.summary, `${field}.summary`, method),
    details,
    reference: safeExternalLink(record.reference),
    message: nullableString(record.message, `${field}.message`),
    cached: record.cached === true,
  };
}

function nullableString(value: unknown, field: string): string | null {
  return optionalString(value, field, ENRICH_REQUEST);
}

function nullableNumber(value: unknown, field: string): number | null {
  return value === null || value === undefined ? null : requireNumber(value, field, ENRICH_REQUEST);
}

function coordinate(value: unknown, limit: number, field: string): number | null {
  const number = nullableNumber(value, field);
  if (number !== null && Math.abs(number) > limit) {
    throw new InvalidResponseError(`\`${field}\` is ${number}, outside -${limit}..${limit}`, ENRICH_REQUEST);
  }
  return number;
}
