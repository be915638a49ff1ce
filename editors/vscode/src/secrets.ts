// The "Quarry: Set API Key" and "Quarry: Remove API Key" commands, and the hand-over of every
// stored key to the server each time it starts.

import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { type SendRequest, SecretStore, invalidSecretName } from './secret_store';

export const SET_API_KEY = 'quarry.setApiKey';
export const REMOVE_API_KEY = 'quarry.removeApiKey';

export function registerSecrets(ctx: Ctx): void {
  const store = new SecretStore(ctx.extensionContext.secrets, ctx.extensionContext.globalState);
  const sender = (): SendRequest | undefined => {
    const client = ctx.client;
    return client === undefined ? undefined : (method, params) => client.sendRequest(method, params);
  };

  ctx.pushDisposable(vscode.commands.registerCommand(SET_API_KEY, () => setApiKey(ctx, store, sender())));
  ctx.pushDisposable(vscode.commands.registerCommand(REMOVE_API_KEY, () => removeApiKey(ctx, store, sender())));
  ctx.onDidStartServer(async () => {
    const send = sender();
    if (send === undefined) {
      return;
    }
    try {
      const missing = await store.sendAll(send);
      for (const name of missing) {
        ctx.log(`API key entry ${name} has no value in the secret store; removed it from the list`);
      }
    } catch (error) {
      ctx.log(`handing API keys to the server failed: ${String(error)}`);
    }
  });
}

async function setApiKey(ctx: Ctx, store: SecretStore, send: SendRequest | undefined): Promise<void> {
  const name = await vscode.window.showInputBox({
    title: vscode.l10n.t('Quarry: Set API Key'),
    prompt: vscode.l10n.t(
      'Name of the entry, as quarry.toml (keyring = "NAME") or enrichment.toml (api_key_keyring = "NAME") refers to it',
    ),
    placeHolder: 'virustotal',
    ignoreFocusOut: true,
    validateInput: (value) => invalidSecretName(value.trim()),
  });
  if (name === undefined) {
    return;
  }
  const value = await vscode.window.showInputBox({
    title: vscode.l10n.t('Quarry: Set API Key'),
    prompt: vscode.l10n.t('Value for {0}. It is kept in the editor\'s secret storage, not in settings.', name.trim()),
    password: true,
    ignoreFocusOut: true,
    validateInput: (text) => (text.length === 0 ? vscode.l10n.t('Enter a value, or press Escape to cancel.') : undefined),
  });
  if (value === undefined) {
    return;
  }
  try {
    await store.set(name.trim(), value, send);
    ctx.log(`API key entry ${name.trim()} stored`);
    void vscode.window.showInformationMessage(vscode.l10n.t('Stored the API key {0}.', name.trim()));
  } catch (error) {
    ctx.log(`storing API key entry ${name.trim()} failed: ${String(error)}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('Storing the API key failed: {0}', String(error)));
  }
}

async function removeApiKey(ctx: Ctx, store: SecretStore, send: SendRequest | undefined): Promise<void> {
  const names = store.names();
  if (names.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No API keys are stored. Use "Quarry: Set API Key" to add one.'));
    return;
  }
  const name = await vscode.window.showQuickPick(names, { placeHolder: vscode.l10n.t('API key to remove') });
  if (name === undefined) {
    return;
  }
  try {
    await store.remove(name, send);
    ctx.log(`API key entry ${name} removed`);
  } catch (error) {
    ctx.log(`removing API key entry ${name} failed: ${String(error)}`);
    void vscode.window.showErrorMessage(vscode.l10n.t('Removing the API key failed: {0}', String(error)));
  }
}
