#!/usr/bin/env node
// Reads JSON lines {"id", "query"} on stdin and writes one JSON line per input with the number
// of query blocks Kusto.Language finds and the syntax errors it reports:
// {"id", "blocks", "errors": [{"code", "start", "length", "message"}]}.
// Offsets are UTF-16 code units, as JavaScript strings count them.
// The package comes from this folder's node_modules (`npm ci` here) or KUSTO_LANGUAGE_PKG.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const packageDir =
  process.env.KUSTO_LANGUAGE_PKG ||
  path.join(__dirname, 'node_modules', '@kusto', 'language-service-next');
if (!fs.existsSync(packageDir)) {
  process.stderr.write(
    `syntax-check: ${packageDir} is missing; run \`npm ci\` in ${__dirname} first\n`,
  );
  process.exit(2);
}
// The Bridge.NET runtime defines the global `Kusto` namespace as a side effect.
require(path.join(packageDir, 'bridge.min.js'));
require(path.join(packageDir, 'Kusto.Language.Bridge.min.js'));
const language = globalThis.Kusto.Language;

function toArray(collection) {
  const items = [];
  if (collection) {
    for (let index = 0; index < collection.Count; index += 1) {
      items.push(collection.getItem(index));
    }
  }
  return items;
}

function check(text) {
  const globals = language.GlobalState.Default;
  const blocks = toArray(language.Editor.CodeScript.From$1(text, globals).Blocks);
  const errors = [];
  for (const block of blocks) {
    const code = language.KustoCode.Parse(block.Text, globals);
    for (const diagnostic of toArray(code.GetSyntaxDiagnostics())) {
      errors.push({
        code: diagnostic.Code,
        start: block.Start + diagnostic.Start,
        length: diagnostic.Length,
        message: diagnostic.Message,
      });
    }
  }
  // Blank blocks hold no query; count only those with text.
  const queryBlocks = blocks.filter((block) => block.Text.trim() !== '').length;
  return { blocks: queryBlocks, errors };
}

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
input.on('line', (line) => {
  if (line.trim() === '') {
    return;
  }
  const request = JSON.parse(line);
  process.stdout.write(`${JSON.stringify({ id: request.id, ...check(request.query) })}\n`);
});
