/**
 * `{{var}}` templates, parsed once when a prompt loads and rendered per request from the parsed
 * form. Rendering walks the template's own segments only, so a value is inserted as plain data
 * and never scanned for placeholders again: a caller cannot inject template syntax.
 */

/** A literal run of text, or a variable given as its property path (`user.name` → ['user', 'name']). */
export type Segment = string | { readonly path: readonly string[] };

export interface Template {
  readonly segments: readonly Segment[];
  /** Dotted variable paths in order of appearance, for load-time checks. */
  readonly vars: readonly string[];
}

// A name, then `.name` or `.0` steps; anything else between braces (`{{ 1 }}`, `{{#if}}`) stays literal text.
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}/g;

export function parseTemplate(text: string): Template {
  const segments: Segment[] = [];
  const vars: string[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const at = match.index;
    if (at > last) segments.push(text.slice(last, at));
    const dotted = match[1]!;
    segments.push({ path: dotted.split('.') });
    vars.push(dotted);
    last = at + match[0].length;
  }
  if (last < text.length) segments.push(text.slice(last));
  return { segments, vars };
}

/**
 * Follows `path` through plain objects and arrays, own properties only: `{{constructor}}` or
 * `{{__proto__}}` find nothing rather than the prototype, and strings are not walked into.
 */
export function lookup(values: unknown, path: readonly string[]): unknown {
  let current = values;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current) && !/^\d+$/.test(step)) return undefined;
    if (!Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** How a value reads inside a message: text as is, missing as empty, structures as JSON. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

export function renderTemplate(template: Template, values: unknown): string {
  let out = '';
  for (const segment of template.segments) out += typeof segment === 'string' ? segment : formatValue(lookup(values, segment.path));
  return out;
}
