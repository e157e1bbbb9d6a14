/**
 * TypeBox builders for the config's shapes that `Type` does not emit the way our validator
 * reports best, and the two annotations the loader understands. Everything they build is plain
 * JSON Schema: Ajv compiles it, `Static<typeof X>` types it.
 */
import { Type, type SchemaOptions, type Static, type TLiteral, type TObject, type TProperties, type TSchema, type TUnion, type TUnsafe } from '@sinclair/typebox';
import { MODEL_NAME_MAX, MODEL_NAME_PATTERN, NOT_RESERVED, NOT_RESERVED_AHEAD } from './names.js';

/**
 * Annotation: the fault reported for this value, in place of Ajv's message, whatever rule it
 * breaks (its absence included), under the value's own key path.
 */
export const FAULT = 'x-fault';

/** Annotation on a string: it must compile as a RegExp with these flags (`''` for none). */
export const REGEX = 'x-regex';

/**
 * One of `values`, as JSON Schema `enum`: a wrong value is one fault listing what is allowed,
 * where `Type.Union` of literals (an `anyOf`) would give one fault per literal.
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, enum: [...values] });
}

/**
 * A mapping of any key to `value`. `Type.Record` matches keys with `^(.*)$`, which a key with a
 * line break escapes; closing the object makes such a key a fault instead of an unchecked one.
 * A reserved name (`__proto__`, `constructor`, `prototype`) is a fault too: these maps are
 * merged and looked up by key (providers by name, headers).
 */
export function StringMap<T extends TSchema>(value: T, options: SchemaOptions = {}) {
  return Type.Record(Type.String(), value, { ...options, additionalProperties: false, propertyNames: { pattern: `^${NOT_RESERVED_AHEAD}` } });
}

/**
 * A model name as clients send it (src/config/names.ts). Ajv checks `maxLength` before
 * `pattern`, so a huge name is refused on its length without a regex pass over it (the
 * reserved-name check before both reads only its first characters).
 */
export function ModelName(options: SchemaOptions = {}) {
  return Type.String({ ...options, minLength: 1, maxLength: MODEL_NAME_MAX, pattern: MODEL_NAME_PATTERN, ...NOT_RESERVED });
}

/** Every variant closes its properties and names itself with a literal `tag`. */
type Variant<K extends string> = TObject<TProperties & Record<K, TLiteral<string>>>;

/**
 * Objects told apart by the string property `tag`. Emitted as `oneOf` with Ajv's
 * `discriminator` (Ajv option `discriminator: true`): Ajv checks only the variant the value
 * names, so a fault is reported once, against that variant, and not once per variant as with
 * `Type.Union`'s `anyOf`. See https://ajv.js.org/json-schema.html#discriminator
 */
export function TaggedUnion<K extends string, T extends Variant<K>[]>(tag: K, variants: [...T], options: SchemaOptions = {}): TUnsafe<Static<TUnion<T>>> {
  return Type.Unsafe<Static<TUnion<T>>>({ ...options, type: 'object', oneOf: variants, discriminator: { propertyName: tag } });
}

/** Object options shared by every config block: an unknown key is a fault (a typo, mostly). */
export const closed = { additionalProperties: false } as const;
