// The "Open Demo Hunt" command of the walkthrough: a new KQL editor with queries that run on the
// built-in demo dataset, so a new user can run a first hunt without any data of their own.

import * as vscode from 'vscode';
import type { Ctx } from './ctx';

export const OPEN_DEMO_HUNT = 'quarry.openDemoHunt';

/** Returns the demo hunt: commented query blocks separated by blank lines. */
export function demoHuntText(): string {
  const blocks = [
    [
      `// ${vscode.l10n.t('Accounts with the most failed logons (event 4625)')}`,
      'SecurityEvent',
      '| where EventID == 4625',
      '| summarize Failures = count() by Account',
      '| order by Failures desc',
    ],
    [
      `// ${vscode.l10n.t('Failed logons per hour, drawn as a chart')}`,
      'SecurityEvent',
      '| where EventID == 4625',
      '| summarize Failures = count() by bin(TimeGenerated, 1h)',
      '| render timechart',
    ],
    [
      `// ${vscode.l10n.t('Processes started per computer')}`,
      'SecurityEvent',
      '| where EventID == 4688',
      '| summarize Processes = count() by Computer',
      '| render columnchart',
    ],
  ];
  return `${blocks.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

export function registerDemoHunt(ctx: Ctx): void {
  ctx.pushDisposable(
    vscode.commands.registerCommand(OPEN_DEMO_HUNT, async () => {
      const document = await vscode.workspace.openTextDocument({ language: 'kql', content: demoHuntText() });
      await vscode.window.showTextDocument(document);
      if (readDataFolder() !== '') {
        void vscode.window.showInformationMessage(
          vscode.l10n.t('These queries read the demo dataset. Pick "Demo data" in the status bar to run them.'),
        );
      }
    }),
  );
}

function readDataFolder(): string {
  return vscode.workspace.getConfiguration('quarry').get<string>('data.folder', '').trim();
}
