import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWebviewMessage } from '../src/panels/protocol';

describe('parseWebviewMessage', () => {
  it('accepts the known messages', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'revealError' }), { type: 'revealError' });
  });

  it('drops extra fields', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready', command: 'rm -rf' }), { type: 'ready' });
  });

  it('rejects anything else', () => {
    for (const value of [null, undefined, 'ready', 42, [], ['ready'], {}, { type: 'READY' }, { type: 'run' }]) {
      assert.equal(parseWebviewMessage(value), undefined, `accepted ${JSON.stringify(value)}`);
    }
  });
});
