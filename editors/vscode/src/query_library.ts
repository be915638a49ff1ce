// The Query Library view (data families, then their templates) and the Pivot browser (entity
// types, then the templates that take them, then each template's help), both filled from
// `quarry/listTemplates`. A template is inserted at the cursor after the user types its
// parameters in input boxes that show each default.

import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import {
  ENTITY_TYPES,
  LIST_TEMPLATES_REQUEST,
  type ListTemplatesResult,
  type ParameterValue,
  RENDER_TEMPLATE_REQUEST,
  type TemplateInfo,
  type TemplateParameter,
  defaultInputText,
  parseListTemplatesResult,
  parseParameterInput,
  parseRenderTemplateResult,
} from './lsp_ext_library';

export const LIBRARY_VIEW = 'quarry.queryLibrary';
export const PIVOT_VIEW = 'quarry.pivotBrowser';
export const SEARCH_LIBRARY = 'quarry.library.search';
export const CLEAR_LIBRARY_SEARCH = 'quarry.library.clearSearch';
export const REFRESH_LIBRARY = 'quarry.library.refresh';
export const INSERT_TEMPLATE = 'quarry.library.insert';
export const OPEN_TEMPLATE_SOURCE = 'quarry.library.openSource';

type LibraryNode =
  | { kind: 'family'; name: string; templates: TemplateInfo[] }
  | { kind: 'entity'; name: string; templates: TemplateInfo[] }
  | { kind: 'template'; template: TemplateInfo; showHelp: boolean }
  | { kind: 'help'; label: string; detail: string }
  | { kind: 'message'; label: string };

/**
 * Requests the templates for both views: the whole list, which the Pivots view shows, and the
 * list that matches the Query Library's search, when there is a search.
 */
class TemplateCatalog {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private all: ListTemplatesResult | undefined;
  private matching: ListTemplatesResult | undefined;
  private failure: string | undefined;
  search = '';

  constructor(private readonly ctx: Ctx) {}

  /** The templates of the Query Library: those that match the search, or all of them. */
  get current(): ListTemplatesResult | undefined {
    return this.search === '' ? this.all : this.matching;
  }

  /** Every template, whatever the search. */
  get unfiltered(): ListTemplatesResult | undefined {
    return this.all;
  }

  get error(): string | undefined {
    return this.failure;
  }

  async refresh(): Promise<void> {
    const client = this.ctx.client;
    if (client === undefined) {
      this.all = undefined;
      this.matching = undefined;
      this.failure = vscode.l10n.t('The Quarry server is not running.');
      this.changed.fire();
      return;
    }
    try {
      // An empty object, not null: the language client sends a null argument as `[null]`, and
      // the server rejects both that and a request without params.
      this.all = parseListTemplatesResult(await client.sendRequest(LIST_TEMPLATES_REQUEST, {}));
      this.matching =
        this.search === ''
          ? undefined
          : parseListTemplatesResult(await client.sendRequest(LIST_TEMPLATES_REQUEST, { search: this.search }));
      this.failure = undefined;
      for (const problem of this.all.problems) {
        this.ctx.log(`template file ${problem.file}:${problem.line}: ${problem.message}`);
      }
    } catch (error) {
      this.ctx.log(`${LIST_TEMPLATES_REQUEST} failed: ${String(error)}`);
      this.all = undefined;
      this.matching = undefined;
      this.failure = vscode.l10n.t('Listing the query templates failed: {0}', errorMessage(error));
    }
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

class LibraryTreeProvider implements vscode.TreeDataProvider<LibraryNode> {
  readonly onDidChangeTreeData: vscode.Event<void>;

  constructor(
    private readonly catalog: TemplateCatalog,
    private readonly byEntity: boolean,
  ) {
    this.onDidChangeTreeData = catalog.onDidChange;
  }

  getChildren(node?: LibraryNode): LibraryNode[] {
    if (node === undefined) {
      return this.roots();
    }
    switch (node.kind) {
      case 'family':
      case 'entity':
        return node.templates.map((template) => ({ kind: 'template', template, showHelp: this.byEntity }));
      case 'template':
        return node.showHelp ? helpNodes(node.template) : [];
      default:
        return [];
    }
  }

  getTreeItem(node: LibraryNode): vscode.TreeItem {
    switch (node.kind) {
      case 'family':
      case 'entity': {
        const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = String(node.templates.length);
        item.contextValue = node.kind;
        item.iconPath = new vscode.ThemeIcon(node.kind === 'family' ? 'database' : 'symbol-class');
        return item;
      }
      case 'template': {
        const template = node.template;
        const item = new vscode.TreeItem(
          template.name,
          node.showHelp ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
        );
        item.description = template.description;
        item.tooltip = templateTooltip(template);
        item.contextValue = 'template';
        item.iconPath = new vscode.ThemeIcon('symbol-function');
        item.command = {
          command: INSERT_TEMPLATE,
          title: vscode.l10n.t('Insert Template'),
          arguments: [node],
        };
        return item;
      }
      case 'help': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.detail;
        item.tooltip = `${node.label}: ${node.detail}`;
        return item;
      }
      case 'message':
        return new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
    }
  }

  private roots(): LibraryNode[] {
    const result = this.byEntity ? this.catalog.unfiltered : this.catalog.current;
    if (result === undefined) {
      return [{ kind: 'message', label: this.catalog.error ?? vscode.l10n.t('Loading the query templates…') }];
    }
    if (this.byEntity) {
      const nodes: LibraryNode[] = [];
      for (const entity of ENTITY_TYPES) {
        const templates = uniqueTemplates(result).filter((template) => template.pivotEntities.includes(entity));
        if (templates.length > 0) {
          nodes.push({ kind: 'entity', name: entity, templates });
        }
      }
      return nodes.length > 0 ? nodes : [{ kind: 'message', label: vscode.l10n.t('No template declares pivot entities.') }];
    }
    const families: LibraryNode[] = result.families
      .filter((family) => family.templates.length > 0)
      .map((family) => ({ kind: 'family', name: family.name, templates: family.templates }));
    if (families.length === 0) {
      const label =
        this.catalog.search === ''
          ? vscode.l10n.t('No query templates found.')
          : vscode.l10n.t('No template matches "{0}".', this.catalog.search);
      return [{ kind: 'message', label }];
    }
    return families;
  }
}

/** Returns each template once: a template with several families is listed under each. */
function uniqueTemplates(result: ListTemplatesResult): TemplateInfo[] {
  const seen = new Map<string, TemplateInfo>();
  for (const family of result.families) {
    for (const template of family.templates) {
      if (!seen.has(template.qualifiedName)) {
        seen.set(template.qualifiedName, template);
      }
    }
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function helpNodes(template: TemplateInfo): LibraryNode[] {
  const nodes: LibraryNode[] = [{ kind: 'help', label: template.qualifiedName, detail: template.description }];
  for (const parameter of template.parameters) {
    const type = parameter.type ?? 'str';
    const defaultText = defaultInputText(parameter);
    const detail = [
      parameter.required ? vscode.l10n.t('required') : vscode.l10n.t('default: {0}', defaultText === '' ? '""' : defaultText),
      parameter.description,
    ]
      .filter((part) => part !== '')
      .join(' · ');
    nodes.push({ kind: 'help', label: `${parameter.name}: ${type}`, detail });
  }
  return nodes;
}

function templateTooltip(template: TemplateInfo): vscode.MarkdownString {
  const tooltip = new vscode.MarkdownString();
  tooltip.appendMarkdown('**');
  tooltip.appendText(template.qualifiedName);
  tooltip.appendMarkdown('**\n\n');
  tooltip.appendText(template.description);
  for (const parameter of template.parameters) {
    tooltip.appendMarkdown('\n\n- `');
    tooltip.appendText(`${parameter.name}: ${parameter.type ?? 'str'}`);
    tooltip.appendMarkdown('` ');
    tooltip.appendText(parameter.description);
  }
  return tooltip;
}

export function registerQueryLibrary(ctx: Ctx): void {
  const catalog = new TemplateCatalog(ctx);
  ctx.pushDisposable(catalog);
  ctx.pushDisposable(vscode.window.createTreeView(LIBRARY_VIEW, { treeDataProvider: new LibraryTreeProvider(catalog, false) }));
  ctx.pushDisposable(vscode.window.createTreeView(PIVOT_VIEW, { treeDataProvider: new LibraryTreeProvider(catalog, true) }));
  ctx.onDidStartServer(() => void catalog.refresh());

  ctx.pushDisposable(vscode.commands.registerCommand(REFRESH_LIBRARY, () => catalog.refresh()));
  ctx.pushDisposable(
    vscode.commands.registerCommand(SEARCH_LIBRARY, async () => {
      const search = await vscode.window.showInputBox({
        prompt: vscode.l10n.t('Search the names, descriptions, parameters and queries of the templates'),
        value: catalog.search,
      });
      if (search === undefined) {
        return;
      }
      catalog.search = search.trim();
      await vscode.commands.executeCommand('setContext', 'quarry.librarySearchActive', catalog.search !== '');
      await catalog.refresh();
    }),
  );
  ctx.pushDisposable(
    vscode.commands.registerCommand(CLEAR_LIBRARY_SEARCH, async () => {
      catalog.search = '';
      await vscode.commands.executeCommand('setContext', 'quarry.librarySearchActive', false);
      await catalog.refresh();
    }),
  );
  ctx.pushDisposable(
    vscode.commands.registerCommand(INSERT_TEMPLATE, (node: unknown) => insertTemplate(ctx, templateOf(node))),
  );
  ctx.pushDisposable(
    vscode.commands.registerCommand(OPEN_TEMPLATE_SOURCE, async (node: unknown) => {
      const template = templateOf(node);
      if (template === undefined) {
        return;
      }
      const line = Math.max(0, template.line - 1);
      await vscode.window.showTextDocument(vscode.Uri.file(template.file), {
        selection: new vscode.Range(line, 0, line, 0),
      });
    }),
  );
}

function templateOf(node: unknown): TemplateInfo | undefined {
  if (typeof node === 'object' && node !== null && (node as LibraryNode).kind === 'template') {
    return (node as { template: TemplateInfo }).template;
  }
  return undefined;
}

/**
 * Asks for each parameter, renders the template and inserts the query at the cursor of the
 * active KQL editor, or in a new KQL editor when none is active.
 */
async function insertTemplate(ctx: Ctx, template: TemplateInfo | undefined): Promise<void> {
  const client = ctx.client;
  if (template === undefined || client === undefined) {
    return;
  }
  const parameters: Record<string, ParameterValue> = {};
  for (const parameter of template.parameters) {
    const value = await askParameter(template, parameter);
    if (value === null) {
      return;
    }
    if (value !== undefined) {
      parameters[parameter.name] = value;
    }
  }

  let query: string;
  try {
    const response = await client.sendRequest(RENDER_TEMPLATE_REQUEST, { name: template.qualifiedName, parameters });
    query = parseRenderTemplateResult(response).query.trim();
  } catch (error) {
    ctx.log(`${RENDER_TEMPLATE_REQUEST} for ${template.qualifiedName} failed: ${String(error)}`);
    void vscode.window.showErrorMessage(
      vscode.l10n.t('Rendering the template {0} failed: {1}', template.qualifiedName, errorMessage(error)),
    );
    return;
  }

  const editor = vscode.window.activeTextEditor;
  if (editor !== undefined && editor.document.languageId === 'kql') {
    await editor.insertSnippet(new vscode.SnippetString().appendText(`${query}\n`), editor.selection.active);
    return;
  }
  const document = await vscode.workspace.openTextDocument({ language: 'kql', content: `${query}\n` });
  await vscode.window.showTextDocument(document);
}

/**
 * Shows an input box for `parameter` with its default filled in. Returns the typed value,
 * undefined for an empty optional parameter (the server uses its default), or null when the
 * user cancelled.
 */
async function askParameter(
  template: TemplateInfo,
  parameter: TemplateParameter,
): Promise<ParameterValue | undefined | null> {
  const type = parameter.type ?? 'str';
  const prompt = [`${parameter.name} (${type})`, parameter.description].filter((part) => part !== '').join(': ');
  const text = await vscode.window.showInputBox({
    title: vscode.l10n.t('Insert {0}', template.qualifiedName),
    prompt,
    value: defaultInputText(parameter),
    placeHolder: type === 'list' ? vscode.l10n.t('Comma-separated values') : undefined,
    ignoreFocusOut: true,
    validateInput: (input) => {
      const parsed = parseParameterInput(parameter, input);
      return 'error' in parsed ? parsed.error : undefined;
    },
  });
  if (text === undefined) {
    return null;
  }
  const parsed = parseParameterInput(parameter, text);
  return 'error' in parsed ? null : parsed.value;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
