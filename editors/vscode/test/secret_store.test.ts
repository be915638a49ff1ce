import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type NameIndex,
  type SecretBackend,
  SecretStore,
  type SetSecretParams,
  invalidSecretName,
} from '../src/secret_store';

class MemorySecrets implements SecretBackend {
  readonly values = new Map<string, string>();
  async get(key: string) {
    return this.values.get(key);
  }
  async store(key: string, value: string) {
    this.values.set(key, value);
  }
  async delete(key: string) {
    this.values.delete(key);
  }
}

class MemoryIndex implements NameIndex {
  readonly values = new Map<string, unknown>();
  get<T>(key: string, defaultValue: T): T {
    return (this.values.has(key) ? this.values.get(key) : defaultValue) as T;
  }
  async update(key: string, value: unknown) {
    this.values.set(key, value);
  }
}

function recorder() {
  const sent: [string, SetSecretParams][] = [];
  const send = async (method: string, params: SetSecretParams) => {
    sent.push([method, params]);
  };
  return { sent, send };
}

describe('SecretStore', () => {
  it('set stores value and sends it', async () => {
    const secrets = new MemorySecrets();
    const index = new MemoryIndex();
    const store = new SecretStore(secrets, index);
    const { sent, send } = recorder();

    await store.set('virustotal', 'vt-key-123', send);

    assert.equal(secrets.values.get('quarry.secret.virustotal'), 'vt-key-123');
    assert.deepEqual(store.names(), ['virustotal']);
    assert.deepEqual(sent, [['quarry/setSecret', { name: 'virustotal', value: 'vt-key-123' }]]);
    // The index contains names only.
    assert.ok(!JSON.stringify([...index.values]).includes('vt-key-123'));
  });

  it('set without server stores only', async () => {
    const store = new SecretStore(new MemorySecrets(), new MemoryIndex());
    await store.set('otx', 'k', undefined);
    assert.deepEqual(store.names(), ['otx']);
  });

  it('invalid name rejected', async () => {
    const store = new SecretStore(new MemorySecrets(), new MemoryIndex());
    const { sent, send } = recorder();
    await assert.rejects(store.set('bad name', 'k', send), /"bad name" is invalid/);
    await assert.rejects(store.set('', 'k', send), /name is empty/);
    await assert.rejects(store.set('ok', '', send), /value for ok is empty/);
    assert.deepEqual(sent, []);
    assert.deepEqual(store.names(), []);
  });

  it('remove deletes and sends null', async () => {
    const secrets = new MemorySecrets();
    const store = new SecretStore(secrets, new MemoryIndex());
    await store.set('a', '1', undefined);
    await store.set('b', '2', undefined);
    const { sent, send } = recorder();

    await store.remove('a', send);

    assert.deepEqual(store.names(), ['b']);
    assert.equal(secrets.values.has('quarry.secret.a'), false);
    assert.deepEqual(sent, [['quarry/setSecret', { name: 'a', value: null }]]);
  });

  it('sendAll resends and drops missing', async () => {
    const secrets = new MemorySecrets();
    const store = new SecretStore(secrets, new MemoryIndex());
    await store.set('shodan', 's1', undefined);
    await store.set('abuseipdb', 'a1', undefined);
    await store.set('gone', 'g1', undefined);
    secrets.values.delete('quarry.secret.gone');
    const { sent, send } = recorder();

    const missing = await store.sendAll(send);

    assert.deepEqual(missing, ['gone']);
    assert.deepEqual(sent, [
      ['quarry/setSecret', { name: 'abuseipdb', value: 'a1' }],
      ['quarry/setSecret', { name: 'shodan', value: 's1' }],
    ]);
    assert.deepEqual(store.names(), ['abuseipdb', 'shodan']);
  });

  it('name rules', () => {
    assert.equal(invalidSecretName('virustotal'), undefined);
    assert.equal(invalidSecretName('ti.vt-key_2'), undefined);
    assert.match(invalidSecretName('-x') ?? '', /invalid/);
    assert.match(invalidSecretName('x'.repeat(129)) ?? '', /maximum is 128/);
  });
});
