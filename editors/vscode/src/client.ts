// Builds the language client that runs `quarry lsp` over stdio.

import * as vscode from 'vscode';
import {
  type DocumentSelector,
  type DynamicFeature,
  type Executable,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  type StaticFeature,
} from 'vscode-languageclient/node';
import type { InitializationOptions } from './lsp_ext';

export const CLIENT_ID = 'quarry';

/** KQL files on disk and unsaved KQL editors: the documents that get Run lenses. */
export const KQL_SELECTOR: DocumentSelector = [
  { language: 'kql', scheme: 'file' },
  { language: 'kql', scheme: 'untitled' },
];

/**
 * Document selector of the language client: KQL documents, and YAML files on disk so that query
 * templates, Sentinel hunting queries and analytics rules get diagnostics, hover and completion.
 * The server recognises template files by their content and leaves other YAML files alone.
 */
export const SERVER_SELECTOR: DocumentSelector = [
  ...KQL_SELECTOR,
  { language: 'yaml', scheme: 'file' },
];

/**
 * A language client without the generic executeCommand feature. That feature registers every
 * command the server lists (`quarry.runQuery`) as a VS Code command, which would collide with the
 * extension's own `quarry.runQuery` command. The extension sends `workspace/executeCommand`
 * itself, after adding the document, the cursor and a results panel.
 */
class QuarryLanguageClient extends LanguageClient {
  public override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    const method = (feature as Partial<DynamicFeature<unknown>>).registrationType?.method;
    if (method === ExecuteCommandRequest.method) {
      return;
    }
    super.registerFeature(feature);
  }
}

export function createClient(
  serverPath: string,
  initializationOptions: InitializationOptions,
  outputChannel: vscode.OutputChannel,
): LanguageClient {
  // NOTE: no `transport` field. With `TransportKind.stdio`, vscode-languageclient 9 appends
  // `--stdio` to the arguments, which `quarry lsp` rejects. Stdio is the default without it.
  const executable: Executable = { command: serverPath, args: ['lsp'] };
  const serverOptions: ServerOptions = { run: executable, debug: executable };

  const clientOptions: LanguageClientOptions = {
    documentSelector: SERVER_SELECTOR,
    initializationOptions,
    outputChannel,
  };

  return new QuarryLanguageClient(
    CLIENT_ID,
    vscode.l10n.t('Quarry Language Server'),
    serverOptions,
    clientOptions,
  );
}
