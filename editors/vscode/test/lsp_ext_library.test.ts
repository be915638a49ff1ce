import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type TemplateParameter,
  defaultInputText,
  parseListTemplatesResult,
  parseParameterInput,
  parsePivotsResult,
  parseRenderTemplateResult,
} from '../src/lsp_ext_library';

const LISTED = {
  families: [
    {
      name: 'WindowsSecurity',
      templates: [
        {
          name: 'list_host_logons',
          qualifiedName: 'WindowsSecurity.list_host_logons',
          description: 'Lists successful logons (event 4624) on a host.',
          dialect: 'kql',
          environments: ['MSSentinel'],
          pivotEntities: ['Host'],
          file: '/home/hunter/quarry/queries/sentinel_windows_logons.yaml',
          line: 31,
          parameters: [
            {
              name: 'host_name',
              type: 'str',
              description: 'Computer name, or part of it',
              required: true,
              default: null,
              aliases: ['hostname'],
            },
            { name: 'add_query_items', type: null, description: '', required: false, default: '', aliases: [] },
          ],
          query: '\nSecurityEvent\n| where Computer has "{host_name}"',
        },
      ],
    },
  ],
  problems: [{ file: '/home/hunter/hunts/broken.yaml', line: 4, column: 3, message: 'invalid YAML' }],
};

function parameter(type: string | null, required: boolean, defaultValue: unknown = null): TemplateParameter {
  return { name: 'p', type, description: '', required, default: defaultValue };
}

describe('parseListTemplatesResult', () => {
  it('documented example parses', () => {
    const result = parseListTemplatesResult(LISTED);
    const template = result.families[0].templates[0];
    assert.equal(template.qualifiedName, 'WindowsSecurity.list_host_logons');
    assert.deepEqual(template.pivotEntities, ['Host']);
    assert.equal(template.line, 31);
    assert.equal(template.parameters[0].required, true);
    assert.equal(template.parameters[1].type, null);
    assert.equal(result.problems[0].message, 'invalid YAML');
  });

  it('bad parameter field named', () => {
    const bad = structuredClone(LISTED);
    (bad.families[0].templates[0].parameters[0] as Record<string, unknown>).type = 5;
    assert.throws(() => parseListTemplatesResult(bad), /families\[0\]\.templates\[0\]\.parameters\[0\]\.type/);
  });
});

describe('template results', () => {
  it('render result parses', () => {
    assert.deepEqual(parseRenderTemplateResult({ query: 'T | take 1', dialect: 'kql', template: 'A.b' }), {
      query: 'T | take 1',
      dialect: 'kql',
    });
    assert.throws(() => parseRenderTemplateResult({ dialect: 'kql' }), /`query` is not a string/);
  });

  it('pivots null stays null', () => {
    assert.equal(parsePivotsResult(null), null);
    const parsed = parsePivotsResult({
      entity: 'IpAddress',
      value: '203.0.113.7',
      pivots: [{ template: 'A.b', description: 'd', parameter: 'ip_address', dialect: 'kql', environments: [], file: 'f' }],
    });
    assert.equal(parsed?.pivots[0].parameter, 'ip_address');
  });
});

describe('parameter input', () => {
  it('defaults shown as typed', () => {
    assert.equal(defaultInputText(parameter('str', true)), '');
    assert.equal(defaultInputText(parameter('int', false, 10)), '10');
    assert.equal(defaultInputText(parameter('list', false, ['a', 'b'])), 'a, b');
    assert.equal(defaultInputText(parameter('datetime', false, '-7')), '-7');
  });

  it('values converted by type', () => {
    assert.deepEqual(parseParameterInput(parameter('int', false), ' 42 '), { value: 42 });
    assert.deepEqual(parseParameterInput(parameter('float', false), '0.5'), { value: 0.5 });
    assert.deepEqual(parseParameterInput(parameter('list', false), 'a, b,,c'), { value: ['a', 'b', 'c'] });
    assert.deepEqual(parseParameterInput(parameter('str', false), 'WS1'), { value: 'WS1' });
    assert.deepEqual(parseParameterInput(parameter('datetime', false), '-3d@d'), { value: '-3d@d' });
  });

  it('empty optional left to default', () => {
    assert.deepEqual(parseParameterInput(parameter('str', false), '  '), { value: undefined });
  });

  it('bad input explained', () => {
    assert.deepEqual(parseParameterInput(parameter('str', true), ''), { error: 'p is required.' });
    assert.deepEqual(parseParameterInput(parameter('int', false), '4.5'), {
      error: 'p takes a whole number, such as 10; "4.5" is not one.',
    });
    assert.deepEqual(parseParameterInput(parameter('float', false), 'abc'), {
      error: 'p takes a number, such as 0.5; "abc" is not one.',
    });
  });
});
