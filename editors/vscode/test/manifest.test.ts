import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TIME_RANGE_PRESETS } from '../src/time_range';

// Tests run from out/test, two levels below the extension folder.
const ROOT = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const nls: Record<string, string> = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'package.nls.json'), 'utf8'),
);

/** Collects every `%key%` reference in the manifest. */
function nlsReferences(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string') {
    const match = /^%(.+)%$/.exec(value);
    if (match) {
      found.push(match[1]);
    }
  } else if (Array.isArray(value)) {
    value.forEach((item) => nlsReferences(item, found));
  } else if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach((item) => nlsReferences(item, found));
  }
  return found;
}

describe('package.json', () => {
  it('resolves every localised string', () => {
    const references = nlsReferences(manifest);

    assert.ok(references.length > 5);
    for (const key of references) {
      assert.equal(typeof nls[key], 'string', `package.nls.json has no "${key}"`);
    }
  });

  it('has no unused localised strings', () => {
    const references = new Set(nlsReferences(manifest));

    for (const key of Object.keys(nls)) {
      assert.ok(references.has(key), `package.nls.json key "${key}" is unused`);
    }
  });

  it('describes every setting', () => {
    const properties = manifest.contributes.configuration.properties;

    for (const [name, schema] of Object.entries<Record<string, unknown>>(properties)) {
      assert.ok(name.startsWith('quarry.'), `${name} is outside the quarry section`);
      assert.ok(schema.description ?? schema.markdownDescription, `${name} has no description`);
    }
    for (const name of ['quarry.server.path', 'quarry.data.folder', 'quarry.run.maxRows']) {
      assert.ok(name in properties, `${name} is not declared`);
    }
  });

  it('claims the KQL file extensions', () => {
    const kql = manifest.contributes.languages.find((language: { id: string }) => language.id === 'kql');

    assert.deepEqual(kql.extensions, ['.kql', '.csl', '.kusto']);
    assert.ok(manifest.activationEvents.includes('onLanguage:kql'));
    assert.ok(fs.existsSync(path.join(ROOT, kql.configuration)));
  });

  it('registers the grammar file', () => {
    const grammar = manifest.contributes.grammars[0];
    const file = JSON.parse(fs.readFileSync(path.join(ROOT, grammar.path), 'utf8'));

    assert.equal(file.scopeName, grammar.scopeName);
  });

  it('restricts the server path in untrusted workspaces', () => {
    const untrusted = manifest.capabilities.untrustedWorkspaces;

    assert.equal(untrusted.supported, 'limited');
    assert.deepEqual(untrusted.restrictedConfigurations, ['quarry.server.path']);
  });

  it('binds Run Query to Shift+Enter in KQL editors', () => {
    const binding = manifest.contributes.keybindings.find(
      (item: { command: string }) => item.command === 'quarry.runQuery',
    );

    assert.equal(binding.key, 'shift+enter');
    assert.match(binding.when, /editorLangId == kql/);
  });

  it('puts Run Query in the editor context menu', () => {
    const entries = manifest.contributes.menus['editor/context'];

    assert.ok(entries.some((entry: { command: string }) => entry.command === 'quarry.runQuery'));
  });

  it('points main at the esbuild output', () => {
    assert.equal(manifest.main, './dist/main.js');
    assert.match(fs.readFileSync(path.join(ROOT, 'esbuild.mjs'), 'utf8'), /outfile: 'dist\/main\.js'/);
  });

  it('declares the time range presets that the code knows', () => {
    const setting = manifest.contributes.configuration.properties['quarry.run.timeRange'];

    assert.deepEqual(setting.enum, [...TIME_RANGE_PRESETS]);
    assert.equal(setting.default, 'all');
    assert.equal(setting.enumDescriptions.length, setting.enum.length);
  });

  it('hides the lens-only command from the palette', () => {
    const hidden = manifest.contributes.menus.commandPalette.find(
      (entry: { command: string }) => entry.command === 'quarry.runBlock',
    );

    assert.equal(hidden.when, 'false');
  });

  it('offers Run Selection only with a selection', () => {
    const entry = manifest.contributes.menus['editor/context'].find(
      (item: { command: string }) => item.command === 'quarry.runSelection',
    );

    assert.match(entry.when, /editorHasSelection/);
  });

  it('ships the media of every walkthrough step', () => {
    const steps = manifest.contributes.walkthroughs[0].steps;

    assert.ok(steps.length >= 5);
    for (const step of steps) {
      assert.ok(fs.existsSync(path.join(ROOT, step.media.markdown)), `${step.id}: ${step.media.markdown} is missing`);
      assert.ok(step.completionEvents.length > 0, `${step.id} never completes`);
    }
  });

  it('links walkthrough steps only to declared commands', () => {
    const declared = new Set(manifest.contributes.commands.map((command: { command: string }) => command.command));
    declared.add('workbench.action.openSettings');

    for (const step of manifest.contributes.walkthroughs[0].steps) {
      const description = nls[step.description.slice(1, -1)];
      for (const match of description.matchAll(/\(command:([\w.]+)/g)) {
        assert.ok(declared.has(match[1]), `${step.id} links to unknown command ${match[1]}`);
      }
      for (const event of step.completionEvents) {
        const command = /^onCommand:(.+)$/.exec(event)?.[1];
        assert.ok(command === undefined || declared.has(command), `${step.id} waits for unknown ${command}`);
      }
    }
  });
});
