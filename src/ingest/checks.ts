import type { ErrorObject } from 'ajv';
import { createAjv } from '../schemas/ajv.js';
import { LocationSchema, type LocationInput } from '../schemas/location.js';
import { parseTimestamp } from './timestamp.js';
import type { FieldError, Result } from './point.js';

const checkLocation = createAjv('strict').compile<LocationInput>(LocationSchema);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

function formatMessage(format: unknown, value: unknown): string {
  switch (format) {
    case 'device-timestamp': {
      const parsed = parseTimestamp(String(value));
      return parsed.ok
        ? 'is not a valid timestamp'
        : (parsed.errors[0]?.message ?? 'is not a valid timestamp');
    }
    case 'user-id':
      return 'must not contain control characters or unpaired surrogates';
    case 'instant':
      return "must be an ISO 8601 date ('2017-01-01') or date-time ('2017-01-01T13:05:00Z')";
    default:
      return `must match format ${String(format)}`;
  }
}

function messageFor(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'type':
      // Ajv's number type excludes Infinity and NaN, which JSON.parse yields for 1e400.
      if (params.type === 'number' && typeof error.data === 'number')
        return `must be a finite number, not ${error.data}`;
      // Query parameters arrive as text, so "1.5" is what the client sent for an integer.
      if (params.type === 'integer') return `must be a whole number, not ${JSON.stringify(error.data)}`;
      return `must be ${describe(typeOfName(params.type))}, not ${describe(error.data)}`;
    case 'minimum':
      return `must be ≥ ${String(params.limit)}, got ${String(error.data)}`;
    case 'maximum':
      return `must be ≤ ${String(params.limit)}, got ${String(error.data)}`;
    case 'minLength':
      return `must have at least ${String(params.limit)} character(s)`;
    case 'maxLength':
      return `must have at most ${String(params.limit)} characters`;
    case 'format':
      return formatMessage(params.format, error.data);
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}, not ${JSON.stringify(error.data)}`;
    default:
      return error.message ?? 'is invalid';
  }
}

// Stands in for a value of the expected JSON type, so that `describe` words "expected" and "got" the same way.
function typeOfName(type: unknown): unknown {
  const samples: Record<string, unknown> = {
    object: {},
    array: [],
    string: '',
    number: 0,
    integer: 0,
    boolean: true,
  };
  return typeof type === 'string' && type in samples ? samples[type] : type;
}

function fieldOf(error: ErrorObject): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing =
    error.keyword === 'required'
      ? String((error.params as { missingProperty: unknown }).missingProperty)
      : '';
  return [path, missing].filter(Boolean).join('.') || 'body';
}

/** Ajv's errors as one message per field, in the order found. */
export function fieldErrorsFromAjv(errors: readonly ErrorObject[]): FieldError[] {
  const byField = new Map<string, FieldError>();
  for (const error of errors) {
    const field = fieldOf(error);
    if (!byField.has(field)) byField.set(field, { field, message: messageFor(error) });
  }
  return [...byField.values()];
}

/** Checks one PUT /location body: every problem with every field, or the typed input. */
export function validateLocation(body: unknown): Result<LocationInput> {
  if (checkLocation(body)) return { ok: true, value: body };
  return { ok: false, errors: fieldErrorsFromAjv(checkLocation.errors ?? []) };
}
