// The template and pivot requests of docs/lsp-extensions.md: `quarry/listTemplates`,
// `quarry/renderTemplate`, `quarry/pivots` and the `quarry.pivot` command, with the conversion
// of what a user types into a parameter's typed value. No `vscode` import, so unit tests load it.

import { InvalidResponseError } from './lsp_ext';
import { requireArray, requireRecord, requireString, requireStrings } from './lsp_ext_check';

export const LIST_TEMPLATES_REQUEST = 'quarry/listTemplates';
export const RENDER_TEMPLATE_REQUEST = 'quarry/renderTemplate';
export const PIVOTS_REQUEST = 'quarry/pivots';
export const PIVOT_COMMAND = 'quarry.pivot';

/** MSTICPy entity types that `quarry/pivots` accepts in `entity`. */
export const ENTITY_TYPES = ['IpAddress', 'Host', 'Account', 'Url', 'Dns', 'File', 'Process'] as const;

/** A parameter value as `quarry/renderTemplate` takes it. */
export type ParameterValue = string | number | boolean | string[];

export interface TemplateParameter {
  name: string;
  /** `str`, `datetime`, `int`, `float`, `list`, or null when the file declares none. */
  type: string | null;
  description: string;
  required: boolean;
  /** A JSON value, or null for a required parameter. */
  default: unknown;
}

export interface TemplateInfo {
  name: string;
  qualifiedName: string;
  description: string;
  dialect: string;
  pivotEntities: string[];
  file: string;
  /** 1-based line of the template in `file`. */
  line: number;
  parameters: TemplateParameter[];
}

export interface TemplateFamily {
  name: string;
  templates: TemplateInfo[];
}

export interface TemplateProblem {
  file: string;
  line: number;
  message: string;
}

export interface ListTemplatesResult {
  families: TemplateFamily[];
  problems: TemplateProblem[];
}

export interface RenderTemplateResult {
  query: string;
  dialect: string;
}

export interface PivotInfo {
  template: string;
  description: string;
  parameter: string;
  dialect: string;
}

export interface PivotsResult {
  entity: string;
  value: string;
  pivots: PivotInfo[];
}

/** Checks a `quarry/listTemplates` result. Throws `InvalidResponseError` naming the bad field. */
export function parseListTemplatesResult(value: unknown): ListTemplatesResult {
  const method = LIST_TEMPLATES_REQUEST;
  const record = requireRecord(value, 'result', method);
  const families = requireArray(record.families, 'families', method).map((item, familyIndex): TemplateFamily => {
    const field = `families[${familyIndex}]`;
    const family = requireRecord(item, field, method);
    const templates = requireArray(family.templates, `${field}.templates`, method).map((entry, index) =>
      parseTemplate(entry, `${field}.templates[${index}]`),
    );
    return { name: requireString(family.name, `${field}.name`, method), templates };
  });
  const problems = requireArray(record.problems ?? [], 'problems', method).map((item, index): TemplateProblem => {
    const field = `problems[${index}]`;
    const problem = requireRecord(item, field, method);
    return {
      file: requireString(problem.file, `${field}.file`, method),
      line: typeof problem.line === 'number' ? problem.line : 0,
      message: requireString(problem.message, `${field}.message`, method),
    };
  });
  return { families, problems };
}

function parseTemplate(value: unknown, field: string): TemplateInfo {
  const method = LIST_TEMPLATES_REQUEST;
  const template = requireRecord(value, field, method);
  const parameters = requireArray(template.parameters, `${field}.parameters`, method).map(
    (item, index): TemplateParameter => {
      const parameterField = `${field}.parameters[${index}]`;
      const parameter = requireRecord(item, parameterField, method);
      const type = parameter.type;
      if (type !== null && type !== undefined && typeof type !== 'string') {
        throw new InvalidResponseError(`\`${parameterField}.type\` is not a string or null`, method);
      }
      return {
        name: requireString(parameter.name, `${parameterField}.name`, method),
        type: type ?? null,
        description: typeof parameter.description === 'string' ? parameter.description : '',
        required: parameter.required === true,
        default: parameter.default ?? null,
      };
    },
  );
  const line = template.line;
  return {
    name: requireString(template.name, `${field}.name`, method),
    qualifiedName: requireString(template.qualifiedName, `${field}.qualifiedName`, method),
    description: typeof template.description === 'string' ? template.description : '',
    dialect: requireString(template.dialect, `${field}.dialect`, method),
    pivotEntities: requireStrings(template.pivotEntities ?? [], `${field}.pivotEntities`, method),
    file: requireString(template.file, `${field}.file`, method),
    line: typeof line === 'number' && Number.isInteger(line) && line > 0 ? line : 1,
    parameters,
  };
}

/** Checks a `quarry/renderTemplate` result. */
export function parseRenderTemplateResult(value: unknown): RenderTemplateResult {
  const method = RENDER_TEMPLATE_REQUEST;
  const record = requireRecord(value, 'result', method);
  return {
    query: requireString(record.query, 'query', method),
    dialect: requireString(record.dialect, 'dialect', method),
  };
}

/** Checks a `quarry/pivots` result; null (no indicator under the cursor) stays null. */
export function parsePivotsResult(value: unknown): PivotsResult | null {
  const method = PIVOTS_REQUEST;
  if (value === null) {
    return null;
  }
  const record = requireRecord(value, 'result', method);
  const pivots = requireArray(record.pivots, 'pivots', method).map((item, index): PivotInfo => {
    const field = `pivots[${index}]`;
    const pivot = requireRecord(item, field, method);
    return {
      template: requireString(pivot.template, `${field}.template`, method),
      description: typeof pivot.description === 'string' ? pivot.description : '',
      parameter: requireString(pivot.parameter, `${field}.parameter`, method),
      dialect: requireString(pivot.dialect, `${field}.dialect`, method),
    };
  });
  return {
    entity: requireString(record.entity, 'entity', method),
    value: requireString(record.value, 'value', method),
    pivots,
  };
}

/** Returns the text an input box starts with for `parameter`: its default, as the user would type it. */
export function defaultInputText(parameter: TemplateParameter): string {
  const value = parameter.default;
  if (value === null || value === undefined) {
    return '';
  }
  if (Array.isArray(value)) {
    return value.map((item) => String(item)).join(', ');
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Converts the text typed for `parameter` into the value `quarry/renderTemplate` takes.
 * Returns `{ error }` for text the parameter's type cannot take, and `{ value: undefined }` for
 * empty text, which leaves the parameter to its default.
 */
export function parseParameterInput(
  parameter: TemplateParameter,
  text: string,
): { value: ParameterValue | undefined } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') {
    return parameter.required
      ? { error: `${parameter.name} is required.` }
      : { value: undefined };
  }
  switch (parameter.type) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
        return { error: `${parameter.name} takes a whole number, such as 10; "${trimmed}" is not one.` };
      }
      return { value: Number(trimmed) };
    }
    case 'float': {
      const number = Number(trimmed);
      if (!Number.isFinite(number)) {
        return { error: `${parameter.name} takes a number, such as 0.5; "${trimmed}" is not one.` };
      }
      return { value: number };
    }
    case 'list':
      return {
        value: trimmed
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
      };
    default:
      return { value: trimmed };
  }
}
