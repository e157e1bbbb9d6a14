/**
 * The configuration reference (docs/configuration-reference.md), written from the config's JSON
 * Schema so that it cannot drift from what the loader accepts: every key with its type, default,
 * allowed values and `description`. test/config-reference.test.ts fails when the committed page
 * differs from this function's output; `npm run docs:config` rewrites it.
 *
 * Only the JSON Schema keywords the config's builders emit (./schema-builders.ts) are read; a
 * keyword this file does not know is left out of the page rather than guessed at.
 */
import { isRecord } from '../core/is-record.js';
import { NOT_RESERVED_AHEAD, RESERVED_NAMES } from './names.js';
import { REGEX } from './schema-builders.js';

type Schema = Record<string, unknown>;

/** One table row; `variants` names the `type`s of a tagged union that have this key, when not all do. */
interface Row {
  path: string;
  type: string;
  default: string;
  allowed: string;
  description: string;
  variants: string[];
}

const RESERVED_PATTERN = `^${NOT_RESERVED_AHEAD}`;

/** A placeholder for a map's keys in a dotted path. */
const KEY = '<name>';

function schemaOf(value: unknown): Schema {
  return isRecord(value) ? value : {};
}

/** The value schema of a `StringMap` (a `Type.Record`), if `schema` is one. */
function mapValueOf(schema: Schema): Schema | undefined {
  const patterns = schema.patternProperties;
  if (!isRecord(patterns)) return undefined;
  const [value] = Object.values(patterns);
  return schemaOf(value);
}

function isObject(schema: Schema): boolean {
  return isRecord(schema.properties) || Array.isArray(schema.oneOf);
}

function code(value: string): string {
  // A backtick inside a code span would end it; none of the config's values has one.
  return `\`${value}\``;
}

function typeName(schema: Schema): string {
  if (typeof schema.const === 'string') return 'string';
  if (Array.isArray(schema.enum)) return 'string';
  if (Array.isArray(schema.oneOf)) return 'object';
  const map = mapValueOf(schema);
  if (map) return `map of ${typeName(map)}`;
  const items = schemaOf(schema.items);
  const names = (Array.isArray(schema.type) ? schema.type : [schema.type]).map((t) => (t === 'array' ? `list of ${typeName(items)}` : String(t ?? 'any')));
  return names.join(' or ');
}

function range(schema: Schema): string[] {
  const { minimum: min, maximum: max, exclusiveMinimum: xmin, exclusiveMaximum: xmax } = schema;
  if (typeof min === 'number' && typeof max === 'number') return [`${min} to ${max}`];
  const parts: string[] = [];
  if (typeof min === 'number') parts.push(`≥ ${min}`);
  if (typeof xmin === 'number') parts.push(`> ${xmin}`);
  if (typeof max === 'number') parts.push(`≤ ${max}`);
  if (typeof xmax === 'number') parts.push(`< ${xmax}`);
  return parts;
}

function patternText(pattern: string): string {
  return pattern === RESERVED_PATTERN ? `not ${RESERVED_NAMES.map(code).join(', ')}` : `matches ${code(pattern)}`;
}

/** What a scalar (or a list's items) may be, beyond its type. */
function constraints(schema: Schema): string[] {
  const out: string[] = [];
  if (typeof schema.const === 'string') out.push(code(schema.const));
  if (Array.isArray(schema.enum)) out.push(schema.enum.map((v) => code(String(v))).join(', '));
  out.push(...range(schema));
  if (schema.minLength === 1) out.push('not empty');
  else if (typeof schema.minLength === 'number') out.push(`at least ${schema.minLength} characters`);
  if (typeof schema.maxLength === 'number') out.push(`at most ${schema.maxLength} characters`);
  if (typeof schema.pattern === 'string') out.push(patternText(schema.pattern));
  for (const part of Array.isArray(schema.allOf) ? schema.allOf : []) {
    const pattern = schemaOf(part).pattern;
    if (typeof pattern === 'string') out.push(patternText(pattern));
  }
  if (typeof schema[REGEX] === 'string') out.push(schema[REGEX] ? `a regular expression (flags ${code(schema[REGEX])})` : 'a regular expression');
  if (typeof schema.minItems === 'number') out.push(`at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
  const items = schemaOf(schema.items);
  if (isRecord(schema.items) && !isObject(items)) {
    const each = constraints(items);
    if (each.length > 0) out.push(`each: ${each.join(', ')}`);
  }
  const names = schemaOf(schema.propertyNames).pattern;
  if (typeof names === 'string') out.push(`names: ${patternText(names)}`);
  return out;
}

function defaultText(schema: Schema, required: boolean): string {
  if ('default' in schema) return code(JSON.stringify(schema.default));
  if (required) return '**required**';
  return '—';
}

/** Whitespace collapsed, so a description may be a template literal laid out over lines. */
function descriptionOf(schema: Schema): string {
  return typeof schema.description === 'string' ? schema.description.replace(/\s+/g, ' ').trim() : '';
}

function rowOf(schema: Schema, path: string, required: boolean): Row {
  return {
    path,
    type: typeName(schema),
    default: defaultText(schema, required),
    allowed: constraints(schema).join('; '),
    description: descriptionOf(schema),
    variants: [],
  };
}

/** The rows of an object's properties, each followed by the rows of what it holds. */
function propertyRows(schema: Schema, path: string): Row[] {
  const properties = schemaOf(schema.properties);
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(properties).flatMap(([key, value]) => {
    const child = schemaOf(value);
    const childPath = path ? `${path}.${key}` : key;
    return [rowOf(child, childPath, required.has(key) && !('default' in child)), ...innerRows(child, childPath)];
  });
}

/** The rows under a key: an object's properties, a list's items, a map's values, a union's variants. */
function innerRows(schema: Schema, path: string): Row[] {
  if (Array.isArray(schema.oneOf)) return variantRows(schema, path);
  if (isRecord(schema.properties)) return propertyRows(schema, path);
  const map = mapValueOf(schema);
  if (map && isObject(map)) return innerRows(map, `${path}.${KEY}`);
  const items = schemaOf(schema.items);
  if (schema.type === 'array' && isObject(items)) return innerRows(items, `${path}[]`);
  return [];
}

/**
 * A union told apart by a tag (`providers.<name>.type`): one row for the tag listing every
 * variant with its description, then each key once, marked with the variants that have it
 * when not all do (or when they differ, as `direct`'s default does).
 */
function variantRows(schema: Schema, path: string): Row[] {
  const tag = String(schemaOf(schema.discriminator).propertyName ?? 'type');
  const variants = (schema.oneOf as unknown[]).map(schemaOf);
  const names = variants.map((v) => String(schemaOf(schemaOf(v.properties)[tag]).const));
  const tagRow: Row = {
    path: `${path}.${tag}`,
    type: 'string',
    default: '**required**',
    allowed: names.map(code).join(', '),
    description: variants.map((v, i) => `${code(names[i] ?? '')}: ${descriptionOf(v)}`).join(' '),
    variants: [],
  };
  const merged = new Map<string, Row>();
  variants.forEach((variant, i) => {
    const rows = propertyRows({ ...variant, properties: withoutKey(schemaOf(variant.properties), tag) }, path);
    for (const row of rows) {
      const id = JSON.stringify([row.path, row.type, row.default, row.allowed, row.description]);
      const seen = merged.get(id);
      if (seen) seen.variants.push(names[i] ?? '');
      else merged.set(id, { ...row, variants: [names[i] ?? ''] });
    }
  });
  const all = [...merged.values()].map((row) => (row.variants.length === names.length ? { ...row, variants: [] } : row));
  // Rows of one key stay together, in the order keys first appear.
  const order = [...new Set(all.map((row) => row.path))];
  return [tagRow, ...order.flatMap((p) => all.filter((row) => row.path === p))];
}

function withoutKey(properties: Schema, key: string): Schema {
  const { [key]: _dropped, ...rest } = properties;
  return rest;
}

/** A table cell: one line, with `|` escaped (GitHub tables split on it, even inside code). */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function tableOf(rows: Row[]): string {
  const lines = ['| key | type | default | allowed | description |', '|---|---|---|---|---|'];
  for (const row of rows) {
    const only = row.variants.length > 0 ? `*${row.variants.map(code).join(', ')} only:* ` : '';
    lines.push(`| ${[code(row.path), row.type, row.default, row.allowed || '—', only + row.description].map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

const PREAMBLE = `# Configuration reference

<!-- Generated from the config schema (src/config/*-schema.ts) by \`npm run docs:config\`; do not edit by hand. -->

Every key the config file takes, as the loader checks it: its type, the default filled in when
it is absent, the values allowed and what it does. A key marked **required** has no default;
\`—\` means it is optional and absent unless set. \`<name>\` stands for a key you choose (a
provider's name, a header's name); \`[]\` for each item of a list. An unknown key anywhere is a
fault that stops the gateway at start.

The file's format, \`\${VAR}\` interpolation, environment variables and examples are in
[configuration.md](configuration.md). Model groups' strategies and retries are explained in
[balancing.md](balancing.md), \`cache\` and \`guardrails\` in
[caching-and-guardrails.md](caching-and-guardrails.md), \`budgets\` in
[access-control.md](access-control.md), \`services\` in [rest-services.md](rest-services.md).`;

/** The whole reference page for the config schema `schema`, one section per top-level key. */
export function describeConfigSchema(schema: unknown): string {
  const root = schemaOf(schema);
  const sections = Object.entries(schemaOf(root.properties)).map(([key, value]) => {
    const section = schemaOf(value);
    const intro = descriptionOf(section);
    const rows = innerRows(section, key);
    // A section that is a map or a list has a row of its own for its type; the intro above says what it is.
    const own = isRecord(section.properties) ? [] : [{ ...rowOf(section, key, false), description: '' }];
    return [`## ${code(key)}`, intro, tableOf([...own, ...rows])].filter(Boolean).join('\n\n');
  });
  return `${[PREAMBLE, ...sections].join('\n\n')}\n`;
}
