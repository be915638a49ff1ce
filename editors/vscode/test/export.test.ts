import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvField, toCsv, toJson } from '../src/export';

describe('csvField', () => {
  const cases: [string, unknown, string][] = [
    ['plain text', 'alice', 'alice'],
    ['a comma', 'a,b', '"a,b"'],
    ['a double quote', 'say "hi"', '"say ""hi"""'],
    ['a line feed', 'a\nb', '"a\nb"'],
    ['a carriage return inside', 'a\rb', '"a\rb"'],
    ['null', null, ''],
    ['a number', 4624, '4624'],
    ['a negative number', -5, '-5'],
    ['a boolean', true, 'true'],
    ['a dynamic value', { ip: '10.0.0.5', ports: [445] }, '"{""ip"":""10.0.0.5"",""ports"":[445]}"'],
    ['a formula', '=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'],
    ['a plus', '+1+2', "'+1+2"],
    ['a minus string', '-5', "'-5"],
    ['an at sign', '@SUM(A1)', "'@SUM(A1)"],
    ['a leading tab', '\t=1', "'\t=1"],
    ['a leading carriage return', '\r=1', '"\'\r=1"'],
    ['a leading NUL', '\0=1', "'\0=1"],
    ['an equals sign later', 'a=b', 'a=b'],
  ];
  for (const [name, value, expected] of cases) {
    it(`writes ${name}`, () => {
      assert.equal(csvField(value), expected);
    });
  }
});

describe('toCsv', () => {
  it('writes a header and CRLF lines', () => {
    const csv = toCsv(
      [
        { name: 'Account', type: 'string' },
        { name: 'Count', type: 'long' },
      ],
      [
        ['CONTOSO\\alice', 3],
        ['<img src=x onerror=alert(1)>', null],
      ],
    );

    assert.equal(csv, 'Account,Count\r\nCONTOSO\\alice,3\r\n<img src=x onerror=alert(1)>,\r\n');
  });

  it('guards column names too', () => {
    assert.equal(toCsv([{ name: '=cmd', type: 'string' }], []), "'=cmd\r\n");
  });
});

describe('toJson', () => {
  it('writes one object per row', () => {
    const json = toJson(
      [
        { name: 'Account', type: 'string' },
        { name: 'Details', type: 'dynamic' },
      ],
      [
        ['alice', { ports: [445] }],
        ['=bob', null],
      ],
    );

    assert.deepEqual(JSON.parse(json), [
      { Account: 'alice', Details: { ports: [445] } },
      { Account: '=bob', Details: null },
    ]);
  });

  it('keeps columns that share a name', () => {
    const json = toJson(
      [
        { name: 'A', type: 'long' },
        { name: 'A', type: 'long' },
      ],
      [[1, 2]],
    );

    assert.deepEqual(JSON.parse(json), [{ A: 1, A_1: 2 }]);
  });

  it('writes an empty array for no rows', () => {
    assert.equal(toJson([{ name: 'A', type: 'long' }], []), '[]\n');
  });
});
