/**
 * TypeBox builders for request-body keywords that `Type` does not emit the way the bodies were
 * written before TypeBox. Ajv's messages (which clients and tests read) follow from the exact
 * keywords, so these keep them: each builds plain JSON Schema, and `Static<>` types it.
 */
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/**
 * `schema` or null, as `type: [<type>, 'null']`: Ajv reports one fault ("must be number,null")
 * and checks `minimum`/`maxLength`… on the non-null value. `Type.Union` with `Type.Null()` (an
 * `anyOf`) would report a fault per branch and word it differently.
 */
export function Nullable<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const type: unknown = schema.type;
  if (typeof type !== 'string') throw new TypeError('Nullable() takes a schema with a single `type`');
  // Only the JSON keywords: TypeBox's symbol keys ([Kind], [OptionalKind]) belong to `schema`, not to the nullable copy.
  const keywords: Record<string, unknown> = Object.fromEntries(Object.entries(schema));
  return Type.Unsafe<Static<T> | null>({ ...keywords, type: [type, 'null'] });
}

/**
 * Exactly `value`, as a bare `const`. `Type.Literal` adds `type: 'string'`, which turns "must be
 * equal to constant" into "must be of type string" for a value of another type.
 */
export function Const<const T extends string>(value: T): TUnsafe<T> {
  return Type.Unsafe<T>({ const: value });
}

/**
 * An object with any fields (a JSON Schema the client wrote, say), as `{ type: 'object' }`.
 * `Type.Object({})` would type it `{}`, and `Type.Record` would add `patternProperties`.
 */
export function AnyObject(): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({ type: 'object' });
}
