import type { GeminiSchema } from './wire-types.js';

const STRING_FORMATS = new Set(['enum', 'date-time']);
const NUMBER_FORMATS = new Set(['float', 'double', 'int32', 'int64']);
const COPIED_SCHEMA_KEYS = ['title', 'description', 'nullable', 'enum', 'minItems', 'maxItems', 'minimum', 'maximum', 'propertyOrdering'];

function isEmptyObjectSchema(schema: Record<string, unknown>): boolean {
  const properties = schema.properties as Record<string, unknown> | undefined;
  return schema.type === 'object' && (!properties || Object.keys(properties).length === 0);
}

/**
 * JSON Schema → Gemini's OpenAPI subset. Gemini answers 400 to keys it does not know
 * (`additionalProperties`, `$schema`, `$ref`, `default`…), to type arrays, to most string
 * formats and to an object schema without properties, so those are rewritten or dropped.
 * A root object without properties returns undefined (send no parameters at all).
 */
export function toGeminiSchema(schema: unknown, isRoot = true): GeminiSchema | undefined {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return undefined;
  const source = schema as Record<string, unknown>;
  if (isEmptyObjectSchema(source)) {
    if (isRoot) return undefined;
    return typeof source.description === 'string' ? { type: 'object', description: source.description } : { type: 'object' };
  }
  const out: GeminiSchema = {};
  for (const key of COPIED_SCHEMA_KEYS) if (source[key] !== undefined) out[key] = source[key];
  if (source.const !== undefined) out.enum = [source.const];
  if (Array.isArray(out.enum) && out.enum.includes(null)) {
    // JSON Schema spells "or null" inside enum too; Gemini only takes strings there.
    out.enum = out.enum.filter((value) => value !== null);
    out.nullable = true;
  }

  if (Array.isArray(source.type)) {
    const types = source.type.filter((t) => t !== 'null');
    if (types.length < source.type.length) out.nullable = true;
    if (types.length === 1) out.type = types[0];
    else if (types.length > 1) out.anyOf = types.map((type) => ({ type }));
  } else if (source.type !== undefined) {
    out.type = source.type;
  }

  const format = source.format;
  if (typeof format === 'string' && (out.type === 'string' ? STRING_FORMATS : NUMBER_FORMATS).has(format)) out.format = format;

  if (source.properties && typeof source.properties === 'object') {
    const properties: Record<string, GeminiSchema> = {};
    for (const [name, value] of Object.entries(source.properties as Record<string, unknown>)) {
      const converted = toGeminiSchema(value, false);
      if (converted) properties[name] = converted;
    }
    out.properties = properties;
    if (Array.isArray(source.required)) out.required = source.required;
  }
  if (source.items !== undefined) out.items = toGeminiSchema(source.items, false);

  const variants = (source.anyOf ?? source.oneOf) as unknown[] | undefined;
  if (Array.isArray(variants)) {
    const kept = variants.filter((v) => (v as { type?: unknown } | null)?.type !== 'null');
    if (kept.length < variants.length) out.nullable = true;
    const converted = kept.map((v) => toGeminiSchema(v, false)).filter((v): v is GeminiSchema => v !== undefined);
    if (converted.length === 1) Object.assign(out, converted[0]);
    else if (converted.length > 1) out.anyOf = converted;
  }
  return out;
}
