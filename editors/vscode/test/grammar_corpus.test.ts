import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

// Tests run from out/test, two levels below the extension folder.
const EXTENSION_ROOT = path.resolve(__dirname, '..', '..');
// Real queries from public hunting repositories and the KQL docs, one JSON object a line.
const CORPUS_DIR = path.resolve(EXTENSION_ROOT, '..', '..', 'tests', 'fixtures', 'corpus', 'kql');

async function loadGrammar(): Promise<textmate.IGrammar> {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text: string) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () => {
      const file = path.join(EXTENSION_ROOT, 'syntaxes', 'kql.tmLanguage.json');
      return textmate.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
    },
  });
  const grammar = await registry.loadGrammar('source.kql');
  assert.ok(grammar, 'source.kql did not load');
  return grammar;
}

function readCorpus(): { id: string; query: string }[] {
  const queries: { id: string; query: string }[] = [];
  for (const file of fs.readdirSync(CORPUS_DIR).filter((name) => name.endsWith('.jsonl'))) {
    for (const line of fs.readFileSync(path.join(CORPUS_DIR, file), 'utf8').split('\n')) {
      if (line.trim() !== '') {
        const record = JSON.parse(line);
        queries.push({ id: record.id, query: record.query });
      }
    }
  }
  return queries;
}

describe('TextMate grammar on real queries', () => {
  it('closes every rule by query end', async () => {
    const grammar = await loadGrammar();
    const queries = readCorpus();
    assert.ok(queries.length > 1000, `corpus has only ${queries.length} queries`);

    // A rule left open at the end of a query (an unterminated multi-line string, for example)
    // would colour everything after it wrongly.
    const unclosed: string[] = [];
    for (const { id, query } of queries) {
      let state = textmate.INITIAL;
      for (const line of query.split('\n')) {
        state = grammar.tokenizeLine(line, state).ruleStack;
      }
      if (state.depth > 1) {
        unclosed.push(id);
      }
    }

    assert.deepEqual(unclosed, []);
  });
});
