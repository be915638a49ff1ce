import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  parseDecodeResult,
  parseProcessTreeResult,
  parseTimeseriesResult,
  timeseriesCandidates,
} from '../src/lsp_ext_analyze';
import { extractAlerts, parseEntities } from '../src/alerts';
import { parseEnrichResult, safeExternalLink } from '../src/lsp_ext_enrich';
import { parseSequencesResult } from '../src/lsp_ext_sequences';
import { MAX_SERIES, buildTimeline, parseMarkers, parseTimeline } from '../src/timeline';
import { MAP_HEIGHT, MAP_WIDTH, geoJsonPath, landPath, project } from '../src/world_map';
import type { RunQueryResult } from '../src/lsp_ext';
import { buildAnalysisHtml } from '../src/panels/analysis_html';
import {
  type AnalysisLabels,
  parseAnalysisMessage,
  parseAnalysisWebviewMessage,
} from '../src/panels/analysis_protocol';
import { type LoadedWebview, loadPage } from './helpers/webview';

// Tests run from out/test, two levels below the extension folder and four below the repository.
const EXTENSION_DIR = path.resolve(__dirname, '..', '..');
const SCRIPT_PATH = path.join(EXTENSION_DIR, 'media', 'analysis.js');
const XSS_PAYLOADS = fs
  .readFileSync(path.resolve(EXTENSION_DIR, '..', '..', 'tests', 'fixtures', 'xss-payloads.txt'), 'utf8')
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('# '));

const LABELS: AnalysisLabels = {
  empty: 'Nothing yet.',
  value: 'Value',
  baseline: 'Baseline',
  anomaly: 'Anomaly',
  anomalyCount: '{0} of {1} anomalous',
  periods: 'Periods',
  noPeriods: 'No periods.',
  kqlFilter: 'Filter',
  copy: 'Copy',
  processSummary: '{0} processes, {1} roots, {2} levels',
  processesTruncated: '{0} of {1}',
  inferred: 'inferred',
  layerCount: '{0} layers',
  input: 'Input',
  indicators: 'Indicators',
  noIndicators: 'None.',
  limits: 'Limits',
  bytes: '{0} B',
  alertCount: '{0} alerts',
  alertsOmitted: '{0} more',
  entities: 'Entities',
  extendedProperties: 'Extended properties',
  pivot: 'Pivot',
  indicatorCount: '{0} indicators',
  indicatorsTruncated: 'More indicators.',
  addressType: 'Address type',
  location: 'Location',
  network: 'Network',
  threatIntel: 'Threat intelligence',
  noProviders: 'No providers.',
  pendingProviders: 'Waiting for',
  reference: 'Open report',
  noLocations: 'No locations.',
  mapCaption: '{0} located',
  sessionCount: '{0} sessions, windows of {1} commands',
  user: 'User',
  start: 'Start',
  events: 'Events',
  likelihood: 'Rarest window likelihood',
  commands: 'Commands',
  noScore: 'shorter than the window',
  timelineSummary: '{0} events in {1} series',
  eventsOmitted: '{0} rows are not drawn.',
};

const ENTITIES = JSON.stringify([
  { $id: '2', Address: '203.0.113.9', Type: 'ip' },
  { $id: '3', HostName: 'ws01', DnsDomain: 'contoso.com', OSFamily: 'Windows', Type: 'host' },
  { $id: '4', Name: 'alice', UPNSuffix: 'contoso.com', Type: 'account' },
  { $ref: '2' },
  { $id: '5', Algorithm: 'SHA256', Value: 'ab'.repeat(32), Type: 'filehash' },
  { $id: '6', ResourceId: '/subscriptions/x', Type: 'azure-resource' },
]);

function alertResult(entities: unknown, extended: unknown): RunQueryResult {
  return {
    query: 'SecurityAlert',
    source: 'demo',
    columns: [
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'AlertName', type: 'string' },
      { name: 'AlertSeverity', type: 'string' },
      { name: 'Description', type: 'string' },
      { name: 'ProviderName', type: 'string' },
      { name: 'Entities', type: 'string' },
      { name: 'ExtendedProperties', type: 'string' },
    ],
    rows: [['2024-05-01T10:00:00Z', 'Password spray', 'High', 'Many failed logons', 'ASI', entities, extended]],
    rowCount: 1,
    truncated: false,
    elapsedMs: 1,
    warnings: [],
  };
}

function loadAnalysis(savedState?: unknown): LoadedWebview & { xssCalls: unknown[] } {
  const html = buildAnalysisHtml({
    cspSource: 'vscode-resource:',
    nonce: 'test-nonce',
    scriptUri: 'vscode-resource:/media/analysis.js',
    styleUri: 'vscode-resource:/media/analysis.css',
    labels: LABELS,
  });
  const page = loadPage(html, SCRIPT_PATH, savedState);
  const xssCalls: unknown[] = [];
  Object.assign(page.window, { quarryXss: (n: unknown) => xssCalls.push(n) });
  return Object.assign(page, { xssCalls });
}

const TIMESERIES = {
  timeColumn: 'TimeGenerated',
  valueColumn: 'Bytes',
  points: [
    { time: '2024-05-01T00:00:00Z', value: 10, baseline: 11, score: 0.2, anomalies: 0 },
    { time: '2024-05-01T01:00:00Z', value: 90, baseline: 12, score: 4.1, anomalies: 1 },
    { time: '2024-05-01T02:00:00Z', value: 12, baseline: 12, score: null, anomalies: 0 },
  ],
  periods: [{ start: '2024-05-01T01:00:00Z', end: '2024-05-01T02:00:00Z' }],
  kqlFilter: '| where TimeGenerated between (datetime(2024-05-01T01:00:00Z) .. datetime(2024-05-01T02:00:00Z))',
};

function process(key: string, parentKey: string | null, depth: number, name: string, commandLine: string | null) {
  return {
    key,
    parent_key: parentKey,
    time: '2024-05-01T00:00:00Z',
    name,
    process_id: `0x${depth}`,
    parent_id: null,
    command_line: commandLine,
    host: 'WS01',
    inferred: parentKey === null,
    is_root: parentKey === null,
    is_leaf: false,
    is_branch: false,
    path: key,
    depth,
  };
}

function layer(encoding: string, preview: string | null, children: unknown[] = []) {
  return {
    encoding,
    start: 0,
    end: 4,
    size: 4,
    truncated: false,
    file_type: 'text',
    preview,
    md5: 'm',
    sha1: 's',
    sha256: 'a'.repeat(64),
    children,
  };
}

describe('analysis results', () => {
  it('timeseries result parses', () => {
    const parsed = parseTimeseriesResult(TIMESERIES);
    assert.equal(parsed.points.length, 3);
    assert.equal(parsed.points[2].score, null);
    assert.equal(parsed.periods[0].end, '2024-05-01T02:00:00Z');
    assert.equal(parsed.kqlFilter, TIMESERIES.kqlFilter);
  });

  it('timeseries result names bad field', () => {
    const bad = { ...TIMESERIES, points: [{ ...TIMESERIES.points[0], baseline: 'high' }] };
    assert.throws(() => parseTimeseriesResult(bad), /points\[0\]\.baseline/);
    assert.throws(() => parseTimeseriesResult({ ...TIMESERIES, periods: null }), /`periods` is not an array/);
  });

  it('process tree converts snake case', () => {
    const parsed = parseProcessTreeResult({
      summary: { processes: 1, roots: 1, leaves: 1, branches: 0, isolated: 1, max_depth: 0 },
      processes: [process('a', null, 0, 'cmd.exe', 'cmd /c whoami')],
    });
    assert.equal(parsed.summary.maxDepth, 0);
    assert.equal(parsed.processes[0].processId, '0x0');
    assert.equal(parsed.processes[0].commandLine, 'cmd /c whoami');
    assert.equal(parsed.processes[0].parentKey, null);
  });

  it('process tree rejects missing name', () => {
    const bad = process('a', null, 0, 'x', null) as Record<string, unknown>;
    delete bad.name;
    assert.throws(
      () => parseProcessTreeResult({ summary: { processes: 1, roots: 1, leaves: 1, max_depth: 0 }, processes: [bad] }),
      /processes\[0\]\.name/,
    );
  });

  it('decode result parses layers', () => {
    const parsed = parseDecodeResult({
      tree: layer('input', null, [layer('base64', 'whoami')]),
      layers: 1,
      indicators: [{ type: 'ipv4', value: '203.0.113.5', layer: 1, start: 0, end: 11 }],
      limits: [{ kind: 'max-depth', depth: 8, message: 'stopped at depth 8' }],
    });
    assert.equal(parsed.tree.children[0].fileType, 'text');
    assert.equal(parsed.tree.children[0].preview, 'whoami');
    assert.deepEqual(parsed.limits, ['stopped at depth 8']);
    assert.equal(parsed.indicators[0].value, '203.0.113.5');
  });

  it('decode result rejects deep nesting', () => {
    let tree = layer('base64', 'x');
    for (let i = 0; i < 70; i++) {
      tree = layer('base64', 'x', [tree]);
    }
    assert.throws(
      () => parseDecodeResult({ tree, layers: 70, indicators: [], limits: [] }),
      /nested deeper than 64/,
    );
  });

  it('candidates split time and value columns', () => {
    const candidates = timeseriesCandidates([
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'Account', type: 'string' },
      { name: 'Count', type: 'long' },
      { name: 'Ratio', type: 'real' },
    ]);
    assert.deepEqual(candidates, { time: ['TimeGenerated'], value: ['Count', 'Ratio'] });
  });
});

describe('alerts', () => {
  it('entities unpacked with pivot types', () => {
    const entities = parseEntities(ENTITIES);
    assert.deepEqual(
      entities.map((entity) => [entity.kind, entity.value, entity.pivotEntity]),
      [
        ['ip', '203.0.113.9', 'IpAddress'],
        ['host', 'ws01.contoso.com', 'Host'],
        ['account', 'alice@contoso.com', 'Account'],
        ['filehash', 'ab'.repeat(32), 'File'],
        ['azure-resource', '/subscriptions/x', null],
      ],
    );
    assert.deepEqual(entities[1].properties, [
      ['HostName', 'ws01'],
      ['DnsDomain', 'contoso.com'],
      ['OSFamily', 'Windows'],
    ]);
  });

  it('dynamic entities accepted', () => {
    assert.equal(parseEntities(JSON.parse(ENTITIES)).length, 5);
    assert.deepEqual(parseEntities('not json'), []);
    assert.deepEqual(parseEntities(null), []);
  });

  it('alert rows unpacked', () => {
    const extracted = extractAlerts(alertResult(ENTITIES, '{"Attempts": 40, "Tactic": "CredentialAccess"}'));
    assert.ok(!('error' in extracted));
    const [alert] = extracted.alerts;
    assert.equal(alert.name, 'Password spray');
    assert.equal(alert.severity, 'High');
    assert.equal(alert.provider, 'ASI');
    assert.equal(alert.entities.length, 5);
    assert.deepEqual(alert.extendedProperties, [
      ['Attempts', '40'],
      ['Tactic', 'CredentialAccess'],
    ]);
    assert.equal(extracted.omitted, 0);
  });

  it('result without alert columns rejected', () => {
    const result = alertResult(ENTITIES, '{}');
    result.columns = [{ name: 'Account', type: 'string' }];
    result.rows = [['alice']];
    const extracted = extractAlerts(result);
    assert.ok('error' in extracted && extracted.error.includes('AlertName'));
  });
});

describe('analysis protocol', () => {
  it('message with bad result rejected', () => {
    assert.equal(parseAnalysisMessage({ type: 'timeseries', title: 't', result: { points: 1 } }), undefined);
    assert.equal(parseAnalysisMessage({ type: 'decode', title: 't', result: {} }), undefined);
    assert.equal(parseAnalysisMessage({ type: 'other', title: 't' }), undefined);
    assert.equal(parseAnalysisMessage('timeseries'), undefined);
  });

  it('webview messages checked', () => {
    assert.deepEqual(parseAnalysisWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseAnalysisWebviewMessage({ type: 'copy', text: 'x' }), { type: 'copy', text: 'x' });
    assert.equal(parseAnalysisWebviewMessage({ type: 'copy', text: 3 }), undefined);
    assert.equal(parseAnalysisWebviewMessage({ type: 'export' }), undefined);
    assert.deepEqual(parseAnalysisWebviewMessage({ type: 'pivot', entity: 'Host', value: 'ws01' }), {
      type: 'pivot',
      entity: 'Host',
      value: 'ws01',
    });
    assert.equal(parseAnalysisWebviewMessage({ type: 'pivot', entity: 'Host' }), undefined);
  });

  it('html has strict policy and one script', () => {
    const html = buildAnalysisHtml({
      cspSource: 'vscode-resource:',
      nonce: 'abc',
      scriptUri: 'vscode-resource:/media/analysis.js',
      styleUri: 'vscode-resource:/media/analysis.css',
      labels: { ...LABELS, empty: '"><script>alert(1)</script>' },
    });
    assert.ok(html.includes('default-src &#39;none&#39;; style-src vscode-resource:; script-src &#39;nonce-abc&#39;'), html);
    assert.equal(html.match(/<script/g)?.length, 1);
    assert.ok(!html.includes('<script>alert(1)'), html);
  });
});

describe('analysis webview', () => {
  it('posts ready and shows empty state', () => {
    const page = loadAnalysis();
    assert.deepEqual(page.posted, [{ type: 'ready' }]);
    assert.equal(page.document.querySelector('.empty')?.textContent, LABELS.empty);
  });

  it('timeseries shows anomalies and filter', () => {
    const page = loadAnalysis();
    page.receive({ type: 'timeseries', title: 'Anomalies in Bytes', result: TIMESERIES });
    const document = page.document;
    assert.equal(document.querySelector('.title')?.textContent, 'Anomalies in Bytes');
    assert.equal(document.querySelector('.anomaly-count')?.textContent, '1 of 3 anomalous');
    assert.equal(document.querySelectorAll('.periods li').length, 1);
    assert.equal(document.querySelector('pre.kql-filter')?.textContent, TIMESERIES.kqlFilter);
    assert.ok(document.querySelector('.chart-frame canvas'));

    (document.querySelector('button.copy') as HTMLButtonElement).click();
    assert.deepEqual(page.posted.at(-1), { type: 'copy', text: TIMESERIES.kqlFilter });
  });

  it('process tree nests children', () => {
    const page = loadAnalysis();
    page.receive({
      type: 'processTree',
      title: 'Process tree',
      result: {
        summary: { processes: 3, roots: 1, leaves: 1, max_depth: 2 },
        processes: [
          process('root', null, 0, 'services.exe', null),
          process('child', 'root', 1, 'cmd.exe', 'cmd /c powershell -enc AAA'),
          process('grandchild', 'child', 2, 'powershell.exe', 'powershell -enc AAA'),
        ],
      },
    });
    const document = page.document;
    assert.equal(document.querySelector('.process-summary')?.textContent, '3 processes, 1 roots, 3 levels');
    const names = Array.from(document.querySelectorAll('.process-tree details.process')).map((node) => {
      let depth = 0;
      for (let parent = node.parentElement; parent?.classList.contains('process'); parent = parent.parentElement) {
        depth += 1;
      }
      return `${depth}:${node.querySelector(':scope > summary .process-name')?.textContent}`;
    });
    assert.deepEqual(names, ['0:services.exe', '1:cmd.exe', '2:powershell.exe']);
    assert.equal(document.querySelector('.process-inferred')?.textContent, 'inferred');
  });

  it('hostile text stays inert', () => {
    assert.ok(XSS_PAYLOADS.length >= 30, `${XSS_PAYLOADS.length} payloads`);
    const page = loadAnalysis();
    const processes = XSS_PAYLOADS.map((payload, index) =>
      process(`k${index}`, index === 0 ? null : 'k0', index === 0 ? 0 : 1, payload, payload),
    );
    page.receive({
      type: 'processTree',
      title: XSS_PAYLOADS[0],
      result: { summary: { processes: processes.length, roots: 1, leaves: 1, max_depth: 1 }, processes },
    });
    const names = Array.from(page.document.querySelectorAll('.process-name')).map((node) => node.textContent);
    assert.deepEqual(names, XSS_PAYLOADS);

    page.receive({
      type: 'decode',
      title: XSS_PAYLOADS[1],
      input: XSS_PAYLOADS.join('\n'),
      result: {
        tree: layer('input', null, XSS_PAYLOADS.map((payload) => ({ ...layer('base64', payload), name: payload }))),
        layers: XSS_PAYLOADS.length,
        indicators: XSS_PAYLOADS.map((payload) => ({ type: 'url', value: payload, layer: 1 })),
        limits: XSS_PAYLOADS,
      },
    });
    const previews = Array.from(page.document.querySelectorAll('pre.layer-preview')).map((node) => node.textContent);
    assert.deepEqual(previews, XSS_PAYLOADS);
    assert.equal(page.document.querySelector('pre.decode-input')?.textContent, XSS_PAYLOADS.join('\n'));

    page.receive({
      type: 'timeseries',
      title: XSS_PAYLOADS[2],
      result: { ...TIMESERIES, valueColumn: XSS_PAYLOADS[3], kqlFilter: XSS_PAYLOADS[4] },
    });
    assert.equal(page.document.querySelector('pre.kql-filter')?.textContent, XSS_PAYLOADS[4]);

    assert.deepEqual(page.alerts, []);
    assert.deepEqual(page.xssCalls, []);
    assert.equal(page.document.querySelectorAll('img, svg, iframe, object, embed, a, form').length, 0);
    assert.equal(page.document.querySelectorAll('script').length, 1);
  });

  it('alerts render and pivot', () => {
    const page = loadAnalysis();
    const hostile = XSS_PAYLOADS.slice(0, 30);
    const entities = JSON.stringify(hostile.map((payload) => ({ Address: payload, Type: 'ip', Note: payload })));
    const extended = JSON.stringify(Object.fromEntries(hostile.map((payload, index) => [`k${index}${payload}`, payload])));
    const extracted = extractAlerts(alertResult(entities, extended));
    assert.ok(!('error' in extracted));
    extracted.alerts[0].name = hostile[5];
    extracted.alerts[0].description = hostile[6];
    page.receive({ type: 'alerts', title: 'Alerts', alerts: extracted.alerts, omitted: 0 });

    const document = page.document;
    assert.equal(document.querySelector('.alert-name')?.textContent, hostile[5]);
    assert.equal(document.querySelector('.alert-description')?.textContent, hostile[6]);
    const values = Array.from(document.querySelectorAll('.entity-value')).map((node) => node.textContent);
    assert.deepEqual(values, hostile);
    assert.equal(document.querySelectorAll('.extended-properties tr').length, hostile.length);
    assert.deepEqual(page.alerts, []);
    assert.deepEqual(page.xssCalls, []);
    assert.equal(document.querySelectorAll('img, svg, iframe, object, embed, a, form').length, 0);

    (document.querySelectorAll('button.pivot')[3] as HTMLButtonElement).click();
    assert.deepEqual(page.posted.at(-1), { type: 'pivot', entity: 'IpAddress', value: hostile[3] });
  });

  it('alerts with bad entity ignored', () => {
    const page = loadAnalysis();
    page.receive({ type: 'alerts', title: 'Alerts', alerts: [{ name: 'x', entities: [{ kind: 1 }] }], omitted: 0 });
    assert.equal(page.document.querySelector('.empty')?.textContent, LABELS.empty);
  });

  it('invalid message ignored', () => {
    const page = loadAnalysis();
    page.receive({ type: 'decode', title: 'x', input: 'x', result: { tree: 'x' } });
    assert.equal(page.document.querySelector('.empty')?.textContent, LABELS.empty);
    assert.equal(page.warnings.length, 1);
  });

  it('saved state redrawn', () => {
    const saved = { type: 'timeseries', title: 'Saved', result: TIMESERIES };
    const page = loadAnalysis(saved);
    assert.equal(page.document.querySelector('.title')?.textContent, 'Saved');
  });
});

function verdict(provider: string, overrides: Record<string, unknown> = {}) {
  return {
    provider,
    ioc: '81.2.69.23',
    ioc_type: 'ipv4',
    status: 'ok',
    verdict: 'malicious',
    severity: 'high',
    summary: '9/62 engines flag it',
    details: { malicious: 9 },
    reference: 'https://www.virustotal.com/gui/ip-address/81.2.69.23',
    cached: false,
    ...overrides,
  };
}

/** A `quarry/enrich` result as the server sends it, with snake_case GeoIP fields. */
function enrichResponse(indicators: unknown[]) {
  return { indicators, truncated: false, problems: [] };
}

function enrichedIp(value: string, location: unknown, results: unknown[]) {
  return { value, type: 'ipv4', defanged: false, ipType: 'public', location, tiConfigured: true, results, pending: [] };
}

const LISBON = { country_code: 'PT', country: 'Portugal', city: 'Lisbon', latitude: 38.72, longitude: -9.14, asn: 64500, as_organization: 'Example Net', sources: ['GeoLite2-City'] };

describe('enrichment', () => {
  it('external links limited to http(s)', () => {
    assert.equal(safeExternalLink('https://example.com/a?b=1'), 'https://example.com/a?b=1');
    assert.equal(safeExternalLink('http://example.com'), 'http://example.com/');
    for (const bad of ['javascript:alert(1)', 'command:quarry.runQuery', 'file:///etc/passwd', 'data:text/html,x', 'https://user:pw@example.com/', '/relative', 42, null]) {
      assert.equal(safeExternalLink(bad), null, String(bad));
    }
  });

  it('result parses and drops unsafe links', () => {
    const parsed = parseEnrichResult(
      enrichResponse([enrichedIp('81.2.69.23', LISBON, [verdict('VirusTotal'), verdict('OTX', { reference: 'command:workbench.action.terminal.new' })])]),
    );
    const indicator = parsed.indicators[0];
    assert.equal(indicator.location?.countryCode, 'PT');
    assert.equal(indicator.location?.asOrganization, 'Example Net');
    assert.equal(indicator.results[0].reference, 'https://www.virustotal.com/gui/ip-address/81.2.69.23');
    assert.equal(indicator.results[0].details, '{"malicious":9}');
    assert.equal(indicator.results[1].reference, null);
    // The extension posts the parsed form (camelCase) to the webview, which parses it again.
    assert.deepEqual(parseEnrichResult(JSON.parse(JSON.stringify(parsed))), parsed);
  });

  it('result with bad coordinate rejected', () => {
    assert.throws(() => parseEnrichResult(enrichResponse([enrichedIp('81.2.69.23', { ...LISBON, latitude: 91 }, [])])), /latitude/);
    assert.throws(() => parseEnrichResult(enrichResponse([{ value: 'x' }])), /indicators\[0\]/);
  });

  it('map projects corners and land', () => {
    assert.deepEqual(project(-180, 90), { x: 0, y: 0 });
    assert.deepEqual(project(180, -90), { x: MAP_WIDTH, y: MAP_HEIGHT });
    assert.deepEqual(project(0, 0), { x: MAP_WIDTH / 2, y: MAP_HEIGHT / 2 });
    assert.equal(geoJsonPath({ type: 'Polygon', coordinates: [[[0, 0], [90, 0], [90, 45], [0, 0]]] }), 'M360,180L540,180L540,90L360,180Z');
    // A ring across the antimeridian moves instead of drawing a line across the map.
    assert.equal(
      geoJsonPath({ type: 'Polygon', coordinates: [[[170, 0], [-170, 0], [-170, 10], [170, 10], [170, 0]]] }),
      'M700,180M20,180L20,160M700,160L700,180Z',
    );
    const land = JSON.parse(fs.readFileSync(path.join(EXTENSION_DIR, 'node_modules', 'world-atlas', 'land-110m.json'), 'utf8'));
    const outline = landPath(land);
    assert.ok(outline.split('M').length > 100, 'the 1:110m land has more than 100 rings');
    assert.throws(() => landPath(land, 'countries'), /countries/);
  });

  it('webview shows verdicts, map and opens links', () => {
    const page = loadAnalysis();
    const parsed = parseEnrichResult(
      enrichResponse([
        enrichedIp('81.2.69.23', LISBON, [verdict('VirusTotal')]),
        { value: '10.1.2.3', type: 'ipv4', defanged: false, ipType: 'private', location: null, tiConfigured: true, pending: ['OTX'],
          results: [verdict('VirusTotal', { status: 'blocked', verdict: 'unknown', severity: 'unknown', summary: 'not sent', reference: null })] },
      ]),
    );
    page.receive({ type: 'enrichment', title: 'Enrichment', result: parsed });
    const document = page.document;
    assert.deepEqual(Array.from(document.querySelectorAll('.indicator-value')).map((node) => node.textContent), ['81.2.69.23', '10.1.2.3']);
    assert.equal(document.querySelector('.indicator.level-high .fact-value')?.textContent, 'public');
    assert.ok(Array.from(document.querySelectorAll('.fact-value')).some((node) => node.textContent === 'Lisbon, Portugal'));
    assert.equal(document.querySelector('.status-blocked .verdict-outcome')?.textContent, 'blocked');
    assert.equal(document.querySelector('.pending')?.textContent, 'Waiting for: OTX');
    assert.equal(document.querySelectorAll('.world-map circle.map-point').length, 1);
    assert.equal(document.querySelector('.world-map circle')?.getAttribute('cx'), String(project(-9.14, 38.72).x));
    assert.ok((document.querySelector('.map-land')?.getAttribute('d') ?? '').length > 1000);

    (document.querySelector('button.open-reference') as HTMLButtonElement).click();
    assert.deepEqual(page.posted.at(-1), { type: 'openLink', url: 'https://www.virustotal.com/gui/ip-address/81.2.69.23' });
    assert.equal(parseAnalysisWebviewMessage({ type: 'openLink', url: 'javascript:alert(1)' }), undefined);
    assert.equal(parseAnalysisWebviewMessage({ type: 'openLink', url: 'command:quarry.runQuery' }), undefined);
  });

  it('hostile enrichment stays inert', () => {
    const page = loadAnalysis();
    const hostile = XSS_PAYLOADS.slice(0, 30);
    const indicators = hostile.map((payload) =>
      enrichedIp(payload, { ...LISBON, city: payload, as_organization: payload }, [
        verdict(payload, { summary: payload, message: payload, details: payload, reference: payload, status: payload, verdict: payload, severity: payload }),
      ]),
    );
    page.receive({ type: 'enrichment', title: hostile[0], result: parseEnrichResult({ indicators, truncated: true, problems: hostile }) });
    const document = page.document;
    assert.deepEqual(Array.from(document.querySelectorAll('.indicator-value')).map((node) => node.textContent), hostile);
    assert.deepEqual(Array.from(document.querySelectorAll('.problem')).map((node) => node.textContent), hostile);
    assert.deepEqual(page.alerts, []);
    assert.deepEqual(page.xssCalls, []);
    // The only SVG is the map, and its only children are the drawn shapes with their titles.
    assert.equal(document.querySelectorAll('img, iframe, object, embed, a, form, script:not([nonce])').length, 0);
    assert.deepEqual(
      Array.from(new Set(Array.from(document.querySelectorAll('svg *')).map((node) => node.tagName))).sort(),
      ['circle', 'path', 'rect', 'title'],
    );
    assert.equal(document.querySelectorAll('button.open-reference').length, 0, 'payloads are not http(s) links');
    for (const node of Array.from(document.querySelectorAll('[class]'))) {
      assert.doesNotMatch(node.getAttribute('class') ?? '', /[<>"'=()]/);
    }
  });
});

function serverSession(commands: string[], start: number | null, likelihood: number | null, user: (string | null)[]) {
  return {
    session: 0,
    user,
    start: '2020-05-12T01:34:59Z',
    end: '2020-05-12T01:35:02Z',
    number_events: commands.length,
    commands,
    likelihood: 0.01,
    geomean_likelihood: 0.2,
    rarest_window_likelihood: likelihood,
    rarest_window_start: start,
    rarest_window: start === null ? [] : commands.slice(start, start + 3),
  };
}

function timelineResult(): RunQueryResult {
  const rows = [
    ['2024-05-01T10:00:00Z', 'ws01', 'logon'],
    ['2024-05-01T09:00:00Z', 'ws01', 'logon'],
    ['2024-05-01T11:00:00Z', 'ws02', 'logoff'],
    ['not a time', 'ws02', 'logoff'],
  ];
  return {
    query: 'T',
    source: 'demo',
    columns: [
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'Computer', type: 'string' },
      { name: 'Activity', type: 'string' },
    ],
    rows,
    rowCount: rows.length,
    truncated: false,
    elapsedMs: 1,
    warnings: [],
  };
}

describe('sessions and timeline', () => {
  it('sessions parse in both forms', () => {
    const server = {
      userColumns: ['UserId', 'ClientIP'],
      window: 3,
      modellableParams: [],
      sessions: [serverSession(['a', 'b', 'c', 'd'], 1, 1e-5, ['admin', null]), serverSession(['a'], null, null, ['bob', '10.0.0.1'])],
    };
    const parsed = parseSequencesResult(server);
    assert.equal(parsed.sessions[0].rarestStart, 1);
    assert.equal(parsed.sessions[0].rarestLength, 3);
    assert.equal(parsed.sessions[1].rarestLikelihood, null);
    assert.deepEqual(parseSequencesResult(JSON.parse(JSON.stringify(parsed))), parsed);
    const bad = { ...server, sessions: [serverSession(['a'], 7, 0.1, ['x'])] };
    assert.throws(() => parseSequencesResult(bad), /rarest_window_start/);
  });

  it('sessions view marks rarest window', () => {
    const page = loadAnalysis();
    const hostile = XSS_PAYLOADS.slice(0, 5);
    const result = parseSequencesResult({
      userColumns: ['UserId'],
      window: 3,
      modellableParams: [],
      sessions: [serverSession(['Get-Mailbox', ...hostile], 2, 1.5e-7, [hostile[0]]), serverSession(['x'], null, null, ['bob'])],
    });
    page.receive({ type: 'sessions', title: 'Sessions', result });
    const document = page.document;
    assert.equal(document.querySelectorAll('tr.session').length, 2);
    assert.deepEqual(Array.from(document.querySelectorAll('tr.session')[0].querySelectorAll('.command.rarest')).map((node) => node.textContent), hostile.slice(1, 4));
    assert.equal(document.querySelector('.session-likelihood')?.textContent, '1.500e-7');
    assert.equal(document.querySelectorAll('.session-likelihood')[1].textContent, LABELS.noScore);
    assert.equal(document.querySelector('.session-user')?.textContent, hostile[0]);
    assert.deepEqual(page.alerts, []);
    assert.deepEqual(page.xssCalls, []);
  });

  it('timeline groups, sorts and counts omitted', () => {
    const timeline = buildTimeline(timelineResult(), 'TimeGenerated', 'Computer', [{ time: Date.parse('2024-05-01T10:30:00Z'), label: 'alert' }]);
    assert.deepEqual(timeline.series.map((series) => series.name), ['ws01', 'ws02']);
    assert.deepEqual(timeline.series[0].events.map((event) => event.time), [Date.parse('2024-05-01T09:00:00Z'), Date.parse('2024-05-01T10:00:00Z')]);
    assert.equal(timeline.omitted, 1);
    assert.deepEqual(parseTimeline(JSON.parse(JSON.stringify(timeline))), timeline);
    assert.throws(() => buildTimeline(timelineResult(), 'Missing', null, []), /Missing/);

    const many = timelineResult();
    many.rows = Array.from({ length: MAX_SERIES + 3 }, (_, index) => ['2024-05-01T10:00:00Z', `host${index}`, 'x']);
    const capped = buildTimeline(many, 'TimeGenerated', 'Computer', []);
    assert.equal(capped.series.length, MAX_SERIES);
    assert.equal(capped.omitted, 3);
  });

  it('markers parsed or rejected', () => {
    assert.deepEqual(parseMarkers('2024-05-01T10:00:00Z=first alert, 2024-05-02'), [
      { time: Date.parse('2024-05-01T10:00:00Z'), label: 'first alert' },
      { time: Date.parse('2024-05-02'), label: '2024-05-02' },
    ]);
    assert.deepEqual(parseMarkers(''), []);
    assert.deepEqual(parseMarkers('2024-05-01T10:00:00Z, yesterday'), { error: 'yesterday' });
    assert.throws(() => parseTimeline({ timeColumn: 'T', groupColumn: null, series: [{ name: 'a', events: [{ time: 'x', label: '' }] }], markers: [], omitted: 0 }), /time/);
  });

  it('timeline view lists series and markers', () => {
    const page = loadAnalysis();
    const timeline = buildTimeline(timelineResult(), 'TimeGenerated', 'Computer', [{ time: Date.parse('2024-05-01T10:30:00Z'), label: XSS_PAYLOADS[0] }]);
    page.receive({ type: 'timeline', title: 'Timeline', timeline });
    const document = page.document;
    assert.equal(document.querySelector('.timeline-summary')?.textContent, '3 events in 2 series');
    assert.deepEqual(Array.from(document.querySelectorAll('.series-name')).map((node) => node.textContent), ['ws01 (2)', 'ws02 (1)']);
    assert.equal(document.querySelector('.marker-name')?.textContent, `2024-05-01 10:30 ${XSS_PAYLOADS[0]}`);
    assert.equal(document.querySelectorAll('canvas').length, 1);
    assert.deepEqual(page.xssCalls, []);
  });
});
