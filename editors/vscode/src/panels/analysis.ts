// The "Quarry Analysis" webview panel: one instance, reused for every analysis (time-series
// anomalies, process tree, decoded command).

import * as vscode from 'vscode';
import { buildAnalysisHtml } from './analysis_html';
import { type AnalysisLabels, type AnalysisMessage, parseAnalysisWebviewMessage } from './analysis_protocol';
import { createNonce } from './results_html';
import { safeExternalLink } from '../lsp_ext_enrich';

export const ANALYSIS_VIEW_TYPE = 'quarry.analysis';

export class AnalysisPanel implements vscode.Disposable {
  private static current: AnalysisPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  /** The analysis shown, posted again when the webview loads and sends `ready`. */
  private state: AnalysisMessage | undefined;

  /** Shows `message` in the panel, creating the panel beside the active editor when there is none. */
  /** Handles Pivot clicks on alert entities; set by the pivot command's registration. */
  static onPivot: ((entity: string, value: string) => void) | undefined;

  static show(extensionUri: vscode.Uri, message: AnalysisMessage): void {
    let current = AnalysisPanel.current;
    if (current === undefined) {
      const panel = vscode.window.createWebviewPanel(
        ANALYSIS_VIEW_TYPE,
        vscode.l10n.t('Quarry Analysis'),
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        {
          enableScripts: true,
          enableCommandUris: false,
          localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
        },
      );
      current = new AnalysisPanel(panel, extensionUri);
      AnalysisPanel.current = current;
    } else {
      current.panel.reveal(undefined, true);
    }
    current.post(message);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
  ) {
    const webview = panel.webview;
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    webview.html = buildAnalysisHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'analysis.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'analysis.css')).toString(),
      labels: analysisLabels(),
    });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
    );
  }

  dispose(): void {
    if (AnalysisPanel.current === this) {
      AnalysisPanel.current = undefined;
    }
    this.panel.dispose();
    for (const disposable of this.disposables.splice(0)) {
      disposable.dispose();
    }
  }

  private post(message: AnalysisMessage): void {
    this.state = message;
    this.panel.title = message.title;
    void this.panel.webview.postMessage(message);
  }

  private onMessage(raw: unknown): void {
    const message = parseAnalysisWebviewMessage(raw);
    if (message === undefined) {
      console.warn('Quarry analysis panel: ignored an invalid webview message');
      return;
    }
    if (message.type === 'ready') {
      if (this.state !== undefined) {
        void this.panel.webview.postMessage(this.state);
      }
      return;
    }
    if (message.type === 'pivot') {
      AnalysisPanel.onPivot?.(message.entity, message.value);
      return;
    }
    if (message.type === 'openLink') {
      // Checked again here: only http and https links reach the browser.
      const url = safeExternalLink(message.url);
      if (url !== null) {
        void vscode.env.openExternal(vscode.Uri.parse(url, true));
      }
      return;
    }
    void vscode.env.clipboard.writeText(message.text).then(() => {
      vscode.window.setStatusBarMessage(vscode.l10n.t('Copied to the clipboard.'), 3_000);
    });
  }
}

function analysisLabels(): AnalysisLabels {
  // Placeholders pass through as `{0}`, `{1}` and `{2}`, so media/analysis.js fills them in.
  return {
    empty: vscode.l10n.t('Run an analysis from the command palette.'),
    value: vscode.l10n.t('Value'),
    baseline: vscode.l10n.t('Baseline'),
    anomaly: vscode.l10n.t('Anomaly'),
    anomalyCount: vscode.l10n.t('{0} anomalous points of {1}', '{0}', '{1}'),
    periods: vscode.l10n.t('Anomaly periods'),
    noPeriods: vscode.l10n.t('No anomaly periods.'),
    kqlFilter: vscode.l10n.t('KQL filter for the anomaly periods'),
    copy: vscode.l10n.t('Copy'),
    processSummary: vscode.l10n.t('{0} processes, {1} roots, {2} levels deep', '{0}', '{1}', '{2}'),
    processesTruncated: vscode.l10n.t('Showing {0} of {1} processes.', '{0}', '{1}'),
    inferred: vscode.l10n.t('inferred parent'),
    layerCount: vscode.l10n.t('{0} decoded layers', '{0}'),
    input: vscode.l10n.t('Input'),
    indicators: vscode.l10n.t('Indicators in the decoded text'),
    noIndicators: vscode.l10n.t('No indicators in the decoded text.'),
    limits: vscode.l10n.t('Decoding stopped early'),
    bytes: vscode.l10n.t('{0} bytes', '{0}'),
    alertCount: vscode.l10n.t('{0} alerts', '{0}'),
    alertsOmitted: vscode.l10n.t('{0} more rows are not shown.', '{0}'),
    entities: vscode.l10n.t('Entities'),
    extendedProperties: vscode.l10n.t('Extended properties'),
    pivot: vscode.l10n.t('Pivot'),
    indicatorCount: vscode.l10n.t('{0} indicators', '{0}'),
    indicatorsTruncated: vscode.l10n.t('The text holds more indicators; only the first ones were looked up.'),
    addressType: vscode.l10n.t('Address type'),
    location: vscode.l10n.t('Location'),
    network: vscode.l10n.t('Network'),
    threatIntel: vscode.l10n.t('Threat intelligence'),
    noProviders: vscode.l10n.t('No threat-intelligence provider is configured in enrichment.toml.'),
    pendingProviders: vscode.l10n.t('Still waiting for'),
    reference: vscode.l10n.t('Open report'),
    noLocations: vscode.l10n.t('No indicator has a GeoIP location. Configure a GeoIP database in enrichment.toml.'),
    mapCaption: vscode.l10n.t('{0} located indicators', '{0}'),
    sessionCount: vscode.l10n.t('{0} sessions, scored with windows of {1} commands, rarest first', '{0}', '{1}'),
    user: vscode.l10n.t('User'),
    start: vscode.l10n.t('Start'),
    events: vscode.l10n.t('Events'),
    likelihood: vscode.l10n.t('Rarest window likelihood'),
    commands: vscode.l10n.t('Commands (rarest window marked)'),
    noScore: vscode.l10n.t('shorter than the window'),
    timelineSummary: vscode.l10n.t('{0} events in {1} series', '{0}', '{1}'),
    eventsOmitted: vscode.l10n.t('{0} rows are not drawn: they have no valid time or exceed the series and event limits.', '{0}'),
  };
}
