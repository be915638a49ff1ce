// Extension state: the output channel, the language client and its restarts, and the
// disposables that live as long as the extension.

import * as vscode from 'vscode';
import { DidChangeConfigurationNotification, type LanguageClient } from 'vscode-languageclient/node';
import { createClient } from './client';
import {
  type Config,
  configurationSettings,
  firstWorkspaceFolder,
  initializationOptions,
  readConfig,
} from './config';
import { findServerBinary } from './server_binary';

export class Ctx implements vscode.Disposable {
  readonly outputChannel: vscode.OutputChannel;
  private languageClient: LanguageClient | undefined;
  private config: Config;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly serverStarted = new vscode.EventEmitter<void>();
  /** Fires each time `quarry lsp` has started, so that features can fetch their data again. */
  readonly onDidStartServer = this.serverStarted.event;

  constructor(readonly extensionContext: vscode.ExtensionContext) {
    this.outputChannel = vscode.window.createOutputChannel(vscode.l10n.t('Quarry'));
    this.disposables.push(this.outputChannel, this.serverStarted);
    this.config = readConfig();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => this.onDidChangeConfiguration(event)),
    );
  }

  get extensionUri(): vscode.Uri {
    return this.extensionContext.extensionUri;
  }

  /** The running client, or undefined when the server is not started or failed to start. */
  get client(): LanguageClient | undefined {
    return this.languageClient?.isRunning() ? this.languageClient : undefined;
  }

  /** Adds a disposable that is released when the extension deactivates. */
  pushDisposable(disposable: vscode.Disposable): void {
    this.disposables.push(disposable);
  }

  /** Finds the `quarry` binary and starts `quarry lsp`. Reports every failure to the user. */
  async start(): Promise<void> {
    this.config = readConfig();
    const lookup = findServerBinary({
      configuredPath: this.config.serverPath,
      workspaceFolder: firstWorkspaceFolder(),
      extensionPath: this.extensionContext.extensionPath,
      envPath: process.env.PATH,
      envPathExt: process.env.PATHEXT,
      platform: process.platform,
    });

    if (lookup.kind === 'invalidSetting') {
      this.log(`quarry.server.path: no executable file at ${lookup.resolvedPath}`);
      // Not awaited: the message stays open until the user acts, and activation must not wait.
      void this.showServerError(
        vscode.l10n.t(
          'The Quarry server was not found: the setting quarry.server.path is "{0}", but no executable file exists at {1}. Fix the setting or clear it to search PATH.',
          lookup.configuredPath,
          lookup.resolvedPath,
        ),
      );
      return;
    }
    if (lookup.kind === 'notFound') {
      this.log(`quarry binary not found; searched: ${lookup.searched.join(', ')}`);
      void this.showServerError(
        vscode.l10n.t(
          'The Quarry server was not found on PATH or in the extension folder. Install the quarry binary or set quarry.server.path to its location.',
        ),
      );
      return;
    }

    this.log(`starting ${lookup.path} lsp (found through ${lookup.source})`);
    const client = createClient(lookup.path, initializationOptions(this.config), this.outputChannel);
    this.languageClient = client;
    try {
      await client.start();
      this.serverStarted.fire();
    } catch (error) {
      this.log(`quarry lsp failed to start: ${String(error)}`);
      void vscode.window.showErrorMessage(
        vscode.l10n.t('The Quarry server failed to start: {0}', String(error)),
      );
    }
  }

  async stop(): Promise<void> {
    const client = this.languageClient;
    this.languageClient = undefined;
    if (client !== undefined) {
      try {
        await client.dispose();
      } catch (error) {
        this.log(`stopping quarry lsp failed: ${String(error)}`);
      }
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  log(message: string): void {
    this.outputChannel.appendLine(`[${new Date().toISOString()}] ${message}`);
  }

  dispose(): void {
    void this.stop();
    for (const disposable of this.disposables.splice(0)) {
      disposable.dispose();
    }
  }

  private async onDidChangeConfiguration(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration('quarry')) {
      return;
    }
    if (event.affectsConfiguration('quarry.server.path')) {
      this.log('quarry.server.path changed; restarting the server');
      await this.restart();
      return;
    }

    this.config = readConfig();
    const client = this.client;
    if (client !== undefined) {
      await client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: configurationSettings(this.config),
      });
    }
  }

  private async showServerError(message: string): Promise<void> {
    const openSettings = vscode.l10n.t('Open Settings');
    const choice = await vscode.window.showErrorMessage(message, openSettings);
    if (choice === openSettings) {
      // The setting has machine scope, which the User tab of a remote window (SSH, containers,
      // code-server) leaves out, so open the Remote tab there.
      if (vscode.env.remoteName === undefined) {
        await vscode.commands.executeCommand('workbench.action.openSettings', 'quarry.server.path');
      } else {
        await vscode.commands.executeCommand('workbench.action.openRemoteSettings', {
          query: 'quarry.server.path',
        });
      }
    }
  }
}
