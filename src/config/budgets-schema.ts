/** `budgets:`: how admission reserves a call's worst-case cost against the budgets that apply. */
import { Type } from '@sinclair/typebox';
import { closed } from './schema-builders.js';

export const budgetsSchema = Type.Object(
  {
    /** Output tokens reserved for a call that names no `max_tokens`/`max_completion_tokens`. */
    reserve_output_tokens: Type.Integer({ minimum: 1, default: 4096 }),
    /** Also send that reserve upstream as the call's cap, so no call can cost more than it reserved. */
    enforce_output_cap: Type.Boolean({ default: false }),
    /** A reservation whose call never settles (its instance died) is released after this, s. */
    reservation_ttl_s: Type.Integer({ minimum: 10, default: 900 }),
  },
  { ...closed, default: {} },
);
