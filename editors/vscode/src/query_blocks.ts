// Query blocks of a KQL document, as the server reports them through `textDocument/
// documentSymbol`, so that the Run lenses and the render check agree with the block the server
// runs for a cursor position.

import * as vscode from 'vscode';

/**
 * Returns the range of each query block, in document order. The server reports a block as a
 * symbol of kind Namespace; its `let` statements are children and are skipped. Returns an empty
 * list when the server is not running.
 */
export async function queryBlocks(document: vscode.TextDocument): Promise<vscode.Range[]> {
  const symbols = await vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[] | undefined>(
    'vscode.executeDocumentSymbolProvider',
    document.uri,
  );
  const ranges: vscode.Range[] = [];
  for (const symbol of symbols ?? []) {
    if (symbol.kind !== vscode.SymbolKind.Namespace) {
      continue;
    }
    ranges.push('range' in symbol ? symbol.range : symbol.location.range);
  }
  return ranges.sort((a, b) => a.start.compareTo(b.start));
}

/** Returns the block that contains `position`, or undefined when it is between blocks. */
export async function queryBlockAt(
  document: vscode.TextDocument,
  position: vscode.Position,
): Promise<vscode.Range | undefined> {
  const blocks = await queryBlocks(document);
  return blocks.find((block) => block.contains(position));
}
