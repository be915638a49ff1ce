// The analysis panel's HTML shell: the same Content Security Policy as the results panel, one
// stylesheet and one script from media/, and no data. The analysis arrives through postMessage.
// No `vscode` import, so unit tests render it in plain Node.

import type { AnalysisLabels } from './analysis_protocol';
import { buildContentSecurityPolicy, escapeAttribute } from './results_html';

export interface AnalysisHtmlInput {
  /** `webview.cspSource`, the origin of the webview's local resources. */
  cspSource: string;
  /** Single-use value that allows the one script tag. */
  nonce: string;
  /** `webview.asWebviewUri` of media/analysis.js. */
  scriptUri: string;
  /** `webview.asWebviewUri` of media/analysis.css. */
  styleUri: string;
  labels: AnalysisLabels;
}

export function buildAnalysisHtml(input: AnalysisHtmlInput): string {
  const csp = buildContentSecurityPolicy(input.cspSource, input.nonce);
  const labels = JSON.stringify(input.labels);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="quarry-labels" content="${escapeAttribute(labels)}">
<link rel="stylesheet" href="${escapeAttribute(input.styleUri)}">
<title>Quarry Analysis</title>
</head>
<body>
<header id="heading" class="heading"></header>
<main id="content" class="content"></main>
<script nonce="${escapeAttribute(input.nonce)}" src="${escapeAttribute(input.scriptUri)}"></script>
</body>
</html>
`;
}
