/**
 * Checks a config against its TypeBox schema with Ajv, which fills defaults and coerces `${VAR}`
 * strings to numbers and booleans in place, and words every fault as `<key path>: <problem>`.
 */
import { Ajv, type ErrorObject, type SchemaValidateFunction } from 'ajv';
import { isRecord } from '../core/is-record.js';
import { gatewayConfigSchema } from './schema.js';
import { FAULT, REGEX } from './schema-builders.js';
import type { GatewayConfig } from './types.js';

const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  coerceTypes: true,
  discriminator: true,
  // Errors carry their schema, so the annotations below and a union's variants can be read back.
  verbose: true,
  strict: false,
});

ajv.addKeyword({ keyword: FAULT, schemaType: 'string' });

const compilesAsRegExp: SchemaValidateFunction = (flags: string, source: string) => {
  try {
    new RegExp(source, flags);
    return true;
  } catch (err) {
    compilesAsRegExp.errors = [{ keyword: REGEX, message: `not a valid regular expression (${(err as Error).message})`, params: {} }];
    return false;
  }
};

ajv.addKeyword({ keyword: REGEX, type: 'string', schemaType: 'string', errors: true, validate: compilesAsRegExp });

const validate = ajv.compile<GatewayConfig>(gatewayConfigSchema);

/** An annotation's text on a schema, if it is there. */
function annotation(schema: unknown, key: string): string | undefined {
  return isRecord(schema) && typeof schema[key] === 'string' ? schema[key] : undefined;
}

/** The tag values a discriminated union accepts, read from its variants. */
function tagValues(union: unknown, tag: string): string[] {
  const variants: unknown[] = isRecord(union) && Array.isArray(union.oneOf) ? union.oneOf : [];
  return variants.flatMap((variant) => {
    const property = isRecord(variant) && isRecord(variant.properties) ? variant.properties[tag] : undefined;
    return isRecord(property) && typeof property.const === 'string' ? [property.const] : [];
  });
}

/** One fault line for one Ajv error, in the wording the config's users (and tests) know. */
export function describeError(e: ErrorObject): string {
  const where = e.instancePath || '/';
  const params: Record<string, unknown> = e.params;
  if (e.keyword === 'required') {
    const missing = String(params.missingProperty);
    const fault = isRecord(e.parentSchema) && isRecord(e.parentSchema.properties) ? annotation(e.parentSchema.properties[missing], FAULT) : undefined;
    if (fault) return `${e.instancePath}/${missing}: ${fault}`;
  }
  const fault = annotation(e.parentSchema, FAULT);
  if (fault) return `${where}: ${fault}`;
  if (e.keyword === 'discriminator') {
    const tag = String(params.tag);
    if (params.tagValue === undefined) return `${where}: must have required property '${tag}'`;
    return `${e.instancePath}/${tag}: must be equal to one of the allowed values (${tagValues(e.parentSchema, tag).join(', ')})`;
  }
  const extra = e.keyword === 'additionalProperties' ? ` "${String(params.additionalProperty)}"` : '';
  const allowed = e.keyword === 'enum' && Array.isArray(params.allowedValues) ? ` (${params.allowedValues.join(', ')})` : '';
  return `${where}: ${e.message ?? 'invalid'}${extra}${allowed}`;
}

export type SchemaCheck = { ok: true; config: GatewayConfig } | { ok: false; faults: string[] };

/** Validates `data` in place (defaults filled, scalars coerced): the config, or every fault. */
export function checkSchema(data: unknown): SchemaCheck {
  if (validate(data)) return { ok: true, config: data };
  return { ok: false, faults: (validate.errors ?? []).map(describeError) };
}
