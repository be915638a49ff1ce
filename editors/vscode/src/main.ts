// Extension entry point: VS Code calls `activate` when a KQL file opens.

import * as vscode from 'vscode';
import { registerAnalysisCommands } from './analysis_commands';
import { registerCodeLens } from './codelens';
import { registerCommands } from './commands';
import { Ctx } from './ctx';
import { registerEnrich } from './enrich';
import { registerHuntViews } from './hunt_views';
import { registerIndicatorActions } from './indicator_actions';
import { registerDemoHunt } from './demo_hunt';
import { RESULTS_VIEW_TYPE, ResultsPanel } from './panels/results';
import { registerPivot } from './pivot';
import { registerQueryLibrary } from './query_library';
import { registerSecrets } from './secrets';
import { registerStatusBar } from './status_bar';

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  ctx = new Ctx(context);
  context.subscriptions.push(ctx);
  registerCommands(ctx);
  registerAnalysisCommands(ctx);
  registerCodeLens(ctx);
  registerStatusBar(ctx);
  registerDemoHunt(ctx);
  registerSecrets(ctx);
  registerQueryLibrary(ctx);
  registerPivot(ctx);
  registerEnrich(ctx);
  registerIndicatorActions(ctx);
  registerHuntViews(ctx);
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(RESULTS_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => {
        ResultsPanel.revive(panel, context.extensionUri);
      },
    }),
  );
  await ctx.start();
}

export async function deactivate(): Promise<void> {
  await ctx?.stop();
  ctx = undefined;
}
