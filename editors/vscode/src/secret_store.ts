// API keys and passwords kept in VS Code's SecretStorage and handed to the server with
// `quarry/setSecret` (docs/lsp-extensions.md). The names of the entries are kept in the
// extension's global state, because SecretStorage cannot list its keys. Neither the names nor
// the values go into settings.json. No `vscode` import, so unit tests load it in plain Node.

export const SET_SECRET_REQUEST = 'quarry/setSecret';

/** Params of `quarry/setSecret`. A null value removes the entry from the server's memory. */
export interface SetSecretParams {
  name: string;
  value: string | null;
}

/** The subset of `vscode.SecretStorage` that the store uses. */
export interface SecretBackend {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** The subset of `vscode.Memento` (the extension's global state) that the store uses. */
export interface NameIndex {
  get<T>(key: string, defaultValue: T): T;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** Sends one request to the server, as `LanguageClient.sendRequest` does. */
export type SendRequest = (method: string, params: SetSecretParams) => PromiseLike<unknown>;

const NAMES_KEY = 'quarry.secretNames';
const SECRET_KEY_PREFIX = 'quarry.secret.';
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** The maximum length of an entry name, in characters. Configuration files use short identifiers. */
const MAX_NAME_LENGTH = 128;

/**
 * Returns why `name` cannot name an entry, or undefined when it can. Names are the ones that
 * `keyring = "NAME"` in quarry.toml and `api_key_keyring = "NAME"` in enrichment.toml use.
 */
export function invalidSecretName(name: string): string | undefined {
  if (name.length === 0) {
    return 'The name is empty. Enter the name that quarry.toml or enrichment.toml uses, such as virustotal.';
  }
  if (name.length > MAX_NAME_LENGTH) {
    return `The name has ${name.length} characters; the maximum is ${MAX_NAME_LENGTH}.`;
  }
  if (!NAME_PATTERN.test(name)) {
    return `The name "${name}" is invalid: use letters, digits, ".", "_" and "-", starting with a letter or digit.`;
  }
  return undefined;
}

export class SecretStore {
  constructor(
    private readonly secrets: SecretBackend,
    private readonly index: NameIndex,
  ) {}

  /** Returns the names of the stored entries, sorted. */
  names(): string[] {
    const names = this.index.get<unknown>(NAMES_KEY, []);
    return Array.isArray(names) ? names.filter((name): name is string => typeof name === 'string').sort() : [];
  }

  /** Stores `value` under `name` and sends it to the server when `send` is given. */
  async set(name: string, value: string, send: SendRequest | undefined): Promise<void> {
    const problem = invalidSecretName(name);
    if (problem !== undefined) {
      throw new Error(problem);
    }
    if (value.length === 0) {
      throw new Error(`The value for ${name} is empty. Use "Quarry: Remove API Key" to delete an entry.`);
    }
    await this.secrets.store(SECRET_KEY_PREFIX + name, value);
    const names = new Set(this.names());
    names.add(name);
    await this.index.update(NAMES_KEY, [...names].sort());
    await send?.(SET_SECRET_REQUEST, { name, value });
  }

  /** Deletes the entry `name` and removes it from the server's memory when `send` is given. */
  async remove(name: string, send: SendRequest | undefined): Promise<void> {
    await this.secrets.delete(SECRET_KEY_PREFIX + name);
    await this.index.update(
      NAMES_KEY,
      this.names().filter((stored) => stored !== name),
    );
    await send?.(SET_SECRET_REQUEST, { name, value: null });
  }

  /**
   * Sends every stored entry to the server, which keeps secrets only until it exits. Returns the
   * names of entries whose value was missing from SecretStorage, which are dropped from the index.
   */
  async sendAll(send: SendRequest): Promise<string[]> {
    const missing: string[] = [];
    for (const name of this.names()) {
      const value = await this.secrets.get(SECRET_KEY_PREFIX + name);
      if (value === undefined || value === '') {
        missing.push(name);
        continue;
      }
      await send(SET_SECRET_REQUEST, { name, value });
    }
    if (missing.length > 0) {
      await this.index.update(
        NAMES_KEY,
        this.names().filter((name) => !missing.includes(name)),
      );
    }
    return missing;
  }
}
