// Checks of the fields in the server's responses, shared by the parsers of the custom requests.
// Each throws `InvalidResponseError` with the field's path and the request's method.

import { InvalidResponseError } from './lsp_ext';

export function requireRecord(value: unknown, field: string, method: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidResponseError(`\`${field}\` is not an object`, method);
  }
  return value as Record<string, unknown>;
}

export function requireArray(value: unknown, field: string, method: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new InvalidResponseError(`\`${field}\` is not an array`, method);
  }
  return value;
}

export function requireString(value: unknown, field: string, method: string): string {
  if (typeof value !== 'string') {
    throw new InvalidResponseError(`\`${field}\` is not a string`, method);
  }
  return value;
}

export function optionalString(value: unknown, field: string, method: string): string | null {
  return value === undefined || value === null ? null : requireString(value, field, method);
}

export function requireNumber(value: unknown, field: string, method: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidResponseError(`\`${field}\` is not a finite number`, method);
  }
  return value;
}

export function requireBoolean(value: unknown, field: string, method: string): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidResponseError(`\`${field}\` is not a boolean`, method);
  }
  return value;
}

export function requireStrings(value: unknown, field: string, method: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InvalidResponseError(`\`${field}\` is not an array of strings`, method);
  }
  return value.slice() as string[];
}
