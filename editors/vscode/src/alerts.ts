// Unpacks SecurityAlert-shaped rows (Microsoft Sentinel's SecurityAlert table, or any result with
// its columns) into alerts with their entities and extended properties, for the analysis panel.
// No `vscode` import, so unit tests and the webview bundle load it.

import type { CellValue, RunQueryResult } from './lsp_ext';

export interface AlertEntity {
  /** The entity's `Type` as the alert gives it, such as `ip`, `host` or `account`. */
  kind: string;
  /** The value a hunter pivots on: the address, host name, account name, URL, and so on. */
  value: string;
  /** The MSTICPy entity type for `quarry/pivots`, or null when no pivot takes this kind. */
  pivotEntity: string | null;
  /** The entity's other scalar properties, as text. */
  properties: [string, string][];
}

export interface Alert {
  name: string;
  severity: string;
  time: string;
  description: string;
  provider: string;
  entities: AlertEntity[];
  extendedProperties: [string, string][];
}

/** The maximum number of alerts unpacked from one result. The rest are counted in `omitted`. */
export const MAX_ALERTS = 500;

/** Entity kinds of Sentinel alerts: the properties that contain the value, and the pivot entity type. */
const ENTITY_KINDS: Record<string, { valueProperties: string[]; pivotEntity: string | null }> = {
  ip: { valueProperties: ['Address'], pivotEntity: 'IpAddress' },
  host: { valueProperties: ['HostName', 'NetBiosName', 'FQDN'], pivotEntity: 'Host' },
  account: { valueProperties: ['Name', 'UPNSuffix', 'AadUserId', 'Sid'], pivotEntity: 'Account' },
  url: { valueProperties: ['Url'], pivotEntity: 'Url' },
  dns: { valueProperties: ['DomainName'], pivotEntity: 'Dns' },
  file: { valueProperties: ['Name', 'Directory'], pivotEntity: 'File' },
  filehash: { valueProperties: ['Value'], pivotEntity: 'File' },
  process: { valueProperties: ['CommandLine', 'ProcessId'], pivotEntity: 'Process' },
};

/** Column names for each alert field, first match wins, compared without case. */
const COLUMNS = {
  name: ['AlertName', 'DisplayName', 'Title'],
  severity: ['AlertSeverity', 'Severity'],
  time: ['TimeGenerated', 'StartTime', 'StartTimeUtc', 'Timestamp'],
  description: ['Description'],
  provider: ['ProviderName', 'ProductName', 'VendorName'],
  entities: ['Entities'],
  extendedProperties: ['ExtendedProperties'],
};

/**
 * Returns the alerts of `result`, or an error message naming the missing columns when the
 * result has neither an alert name nor an Entities column.
 */
export function extractAlerts(result: RunQueryResult): { alerts: Alert[]; omitted: number } | { error: string } {
  const index = (names: string[]): number => {
    const wanted = names.map((name) => name.toLowerCase());
    return result.columns.findIndex((column) => wanted.includes(column.name.toLowerCase()));
  };
  const columns = {
    name: index(COLUMNS.name),
    severity: index(COLUMNS.severity),
    time: index(COLUMNS.time),
    description: index(COLUMNS.description),
    provider: index(COLUMNS.provider),
    entities: index(COLUMNS.entities),
    extendedProperties: index(COLUMNS.extendedProperties),
  };
  if (columns.name < 0 && columns.entities < 0) {
    return {
      error: `The result has no alert columns: expected ${COLUMNS.name.join(' or ')}, or Entities, as in the SecurityAlert table.`,
    };
  }
  const text = (row: CellValue[], column: number): string => (column < 0 ? '' : cellText(row[column]));
  const alerts = result.rows.slice(0, MAX_ALERTS).map((row) => ({
    name: text(row, columns.name),
    severity: text(row, columns.severity),
    time: text(row, columns.time),
    description: text(row, columns.description),
    provider: text(row, columns.provider),
    entities: columns.entities < 0 ? [] : parseEntities(row[columns.entities]),
    extendedProperties: columns.extendedProperties < 0 ? [] : flattenObject(parseJson(row[columns.extendedProperties])),
  }));
  return { alerts, omitted: Math.max(0, result.rows.length - MAX_ALERTS) };
}

/**
 * Returns the entities of an `Entities` cell: a JSON array as text or as a dynamic value.
 * Entries that only refer to another entry (`$ref`) are left out, as are cells that are not
 * JSON arrays.
 */
export function parseEntities(cell: CellValue): AlertEntity[] {
  const parsed = parseJson(cell);
  if (!Array.isArray(parsed)) {
    return [];
  }
  const entities: AlertEntity[] = [];
  for (const item of parsed) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      continue;
    }
    const record = item as Record<string, unknown>;
    if (typeof record.Type !== 'string') {
      continue;
    }
    const kind = record.Type;
    const known = ENTITY_KINDS[kind.toLowerCase()];
    const properties = flattenObject(record).filter(([key]) => key !== 'Type' && !key.startsWith('$'));
    const value = entityValue(kind.toLowerCase(), record, known?.valueProperties ?? [], properties);
    if (value === '') {
      continue;
    }
    entities.push({ kind, value, pivotEntity: known?.pivotEntity ?? null, properties });
  }
  return entities;
}

function entityValue(
  kind: string,
  record: Record<string, unknown>,
  valueProperties: string[],
  properties: [string, string][],
): string {
  if (kind === 'account' && typeof record.Name === 'string' && typeof record.UPNSuffix === 'string') {
    return `${record.Name}@${record.UPNSuffix}`;
  }
  if (kind === 'host' && typeof record.HostName === 'string' && typeof record.DnsDomain === 'string') {
    return `${record.HostName}.${record.DnsDomain}`;
  }
  for (const name of valueProperties) {
    const value = record[name];
    if (typeof value === 'string' && value !== '') {
      return value;
    }
    if (typeof value === 'number') {
      return String(value);
    }
  }
  return properties[0]?.[1] ?? '';
}

/** Returns the properties of an object as text pairs. Nested values become JSON text. */
function flattenObject(value: unknown): [string, string][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [];
  }
  return Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, cellText(item)]);
}

function parseJson(cell: CellValue): unknown {
  if (typeof cell !== 'string') {
    return cell;
  }
  try {
    return JSON.parse(cell);
  } catch {
    return undefined;
  }
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Checks an alert list received in a message. Returns undefined when any field is invalid. */
export function parseAlerts(value: unknown): Alert[] | undefined {
  if (!Array.isArray(value)) {
    return undefined;
  }
  const alerts: Alert[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) {
      return undefined;
    }
    const alert = item as Record<string, unknown>;
    const fields = ['name', 'severity', 'time', 'description', 'provider'] as const;
    if (!fields.every((field) => typeof alert[field] === 'string')) {
      return undefined;
    }
    if (!isPairs(alert.extendedProperties) || !Array.isArray(alert.entities)) {
      return undefined;
    }
    const entities: AlertEntity[] = [];
    for (const entity of alert.entities as unknown[]) {
      if (typeof entity !== 'object' || entity === null) {
        return undefined;
      }
      const record = entity as Record<string, unknown>;
      if (
        typeof record.kind !== 'string' ||
        typeof record.value !== 'string' ||
        (record.pivotEntity !== null && typeof record.pivotEntity !== 'string') ||
        !isPairs(record.properties)
      ) {
        return undefined;
      }
      entities.push({
        kind: record.kind,
        value: record.value,
        pivotEntity: record.pivotEntity as string | null,
        properties: record.properties,
      });
    }
    alerts.push({
      name: alert.name as string,
      severity: alert.severity as string,
      time: alert.time as string,
      description: alert.description as string,
      provider: alert.provider as string,
      entities,
      extendedProperties: alert.extendedProperties,
    });
  }
  return alerts;
}

function isPairs(value: unknown): value is [string, string][] {
  return (
    Array.isArray(value) &&
    value.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string')
  );
}
