// The results panel's HTML shell: a strict Content Security Policy, one stylesheet and one
// script loaded from media/ (the script bundles Chart.js), and no data. Rows arrive later
// through postMessage.
// No `vscode` import, so unit tests render it in plain Node.

import { randomBytes } from 'crypto';
import type { ResultsLabels } from './protocol';

export interface ResultsHtmlInput {
  /** `webview.cspSource`, the origin of the webview's local resources. */
  cspSource: string;
  /** Single-use value that allows the one script tag. */
  nonce: string;
  /** `webview.asWebviewUri` of media/results.js. */
  scriptUri: string;
  /** `webview.asWebviewUri` of media/results.css. */
  styleUri: string;
  title: string;
  labels: ResultsLabels;
}

/** Returns a nonce of 128 random bits from the operating system's CSPRNG, base64-encoded. */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

export function buildContentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function buildResultsHtml(input: ResultsHtmlInput): string {
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
<title>${escapeText(input.title)}</title>
</head>
<body>
<header id="summary" class="summary"></header>
<section id="error" class="error" hidden></section>
<section id="chart" class="chart" hidden></section>
<nav id="toolbar" class="toolbar" hidden></nav>
<main id="results" class="results"></main>
<script nonce="${escapeAttribute(input.nonce)}" src="${escapeAttribute(input.scriptUri)}"></script>
</body>
</html>
`;
}

/** Escapes a value for a double-quoted HTML attribute. */
export function escapeAttribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
