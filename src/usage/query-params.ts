/**
 * Query-string parsing for the report routes. Fastify runs with `coerceTypes: false`, so
 * numbers and times arrive as strings and are checked here; a bad value is a 400 naming it.
 */
import { GatewayError } from '../core/errors.js';

export type RawQuery = Record<string, string | string[] | undefined>;

export function rejectUnknownParams(query: RawQuery, allowed: readonly string[]): void {
  for (const name of Object.keys(query)) {
    if (!allowed.includes(name)) {
      throw new GatewayError('invalid_request', `unknown query parameter '${name}' (allowed: ${allowed.join(', ')})`, { param: name });
    }
  }
}

/** The one value of a parameter; a parameter given twice is an error unless `list` is set. */
export function single(query: RawQuery, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new GatewayError('invalid_request', `'${name}' is given more than once`, { param: name });
  return value === '' ? undefined : value;
}

/** A comma-separated or repeated list parameter. */
export function list(query: RawQuery, name: string): string[] {
  const value = query[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value])
    .flatMap((part) => part.split(','))
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

export function integerParam(query: RawQuery, name: string, min: number, max: number): number | undefined {
  const text = single(query, name);
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new GatewayError('invalid_request', `'${name}' must be an integer from ${min} to ${max}`, { param: name });
  }
  return value;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const DAY_MS = 86_400_000;
/** The largest epoch ms a JavaScript Date holds; beyond it `toISOString()` throws. */
const MAX_DATE_MS = 8.64e15;

/**
 * An ISO 8601 date or date-time (UTC unless it names an offset), or epoch ms. A bare date
 * used as the end of a range (`endOfDay`) means the end of that day, so `to=2025-01-31`
 * includes the 31st.
 */
export function timeParam(query: RawQuery, name: string, options: { endOfDay?: boolean } = {}): number | undefined {
  const text = single(query, name);
  if (text === undefined) return undefined;
  let value = NaN;
  if (/^\d{10,16}$/.test(text)) value = Number(text);
  else if (ISO_DATE.test(text)) value = Date.parse(`${text}T00:00:00Z`) + (options.endOfDay ? DAY_MS : 0);
  else if (ISO_DATE_TIME.test(text)) {
    const iso = text.replace(' ', 'T');
    value = Date.parse(/(z|[+-]\d{2}:?\d{2})$/i.test(iso) ? iso : `${iso}Z`);
  }
  if (!Number.isFinite(value) || value > MAX_DATE_MS) {
    throw new GatewayError('invalid_request', `'${name}' must be an ISO 8601 date or time (2025-01-31, 2025-01-31T12:00:00Z) or epoch ms`, { param: name });
  }
  return value;
}
