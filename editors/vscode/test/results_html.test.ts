import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSDOM } from 'jsdom';
import { buildResultsHtml, createNonce, escapeAttribute } from '../src/panels/results_html';
import { LABELS } from './helpers/webview';

const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

function render(nonce = createNonce()): { html: string; nonce: string; document: Document } {
  const html = buildResultsHtml({
    cspSource: CSP_SOURCE,
    nonce,
    scriptUri: `${CSP_SOURCE}/ext/media/results.js`,
    styleUri: `${CSP_SOURCE}/ext/media/results.css`,
    title: 'Quarry Results',
    labels: LABELS,
  });
  return { html, nonce, document: new JSDOM(html).window.document };
}

describe('results HTML shell', () => {
  it('sets a strict Content Security Policy', () => {
    const { document, nonce } = render();

    const meta = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
    assert.ok(meta, 'CSP meta tag is missing');
    const directives = (meta.getAttribute('content') ?? '').split(';').map((part) => part.trim());
    assert.equal(directives[0], "default-src 'none'");
    assert.ok(directives.includes(`style-src ${CSP_SOURCE}`));
    assert.ok(directives.includes(`script-src 'nonce-${nonce}'`));
    assert.ok(!directives.some((directive) => directive.includes('unsafe')));
  });

  it('puts the nonce on its only script', () => {
    const { document, nonce } = render();

    const scripts = document.querySelectorAll('script');
    assert.equal(scripts.length, 1);
    assert.equal(scripts[0].getAttribute('nonce'), nonce);
    assert.equal(scripts[0].getAttribute('src'), `${CSP_SOURCE}/ext/media/results.js`);
  });

  it('has no inline script or style', () => {
    const { document, html } = render();

    for (const script of document.querySelectorAll('script')) {
      assert.equal(script.textContent, '', 'inline script body found');
    }
    assert.equal(document.querySelectorAll('style').length, 0);
    assert.equal(document.querySelectorAll('[style]').length, 0);
    for (const element of document.querySelectorAll('*')) {
      for (const attribute of element.getAttributeNames()) {
        assert.ok(!attribute.startsWith('on'), `inline handler ${attribute} found`);
      }
    }
    assert.ok(!/javascript:/i.test(html));
  });

  it('embeds the labels as JSON', () => {
    const { document } = render();

    const meta = document.querySelector('meta[name="quarry-labels"]');
    assert.deepEqual(JSON.parse(meta?.getAttribute('content') ?? 'null'), LABELS);
  });

  it('escapes labels that contain markup', () => {
    const html = buildResultsHtml({
      cspSource: CSP_SOURCE,
      nonce: 'abc',
      scriptUri: 's.js',
      styleUri: 's.css',
      title: '<b>T</b>',
      labels: { ...LABELS, empty: '"><script>alert(1)</script>' },
    });
    const document = new JSDOM(html).window.document;

    assert.equal(document.querySelectorAll('script').length, 1);
    assert.equal(document.title, '<b>T</b>');
    const meta = document.querySelector('meta[name="quarry-labels"]');
    assert.equal(JSON.parse(meta?.getAttribute('content') ?? '{}').empty, '"><script>alert(1)</script>');
  });
});

describe('createNonce', () => {
  it('returns 128 random bits in base64', () => {
    const nonce = createNonce();

    assert.equal(Buffer.from(nonce, 'base64').length, 16);
    assert.match(nonce, /^[A-Za-z0-9+/]{22}==$/);
  });

  it('differs between calls', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => createNonce()));

    assert.equal(nonces.size, 50);
  });
});

describe('escapeAttribute', () => {
  it('escapes quotes, angle brackets and ampersands', () => {
    assert.equal(escapeAttribute(`"'<>&`), '&quot;&#39;&lt;&gt;&amp;');
  });
});
