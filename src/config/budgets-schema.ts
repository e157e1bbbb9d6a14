/** `budgets:`: how admission reserves a call's worst-case cost against the budgets that apply. */
import { Type } from '@sinclair/typebox';
import { closed } from './schema-builders.js';

export const budgetsSchema = Type.Object(
  {
    reserve_output_tokens: Type.Integer({
      minimum: 1,
      default: 4096,
      description: 'Output tokens reserved for a call that names no `max_tokens`/`max_completion_tokens`.',
    }),
    enforce_output_cap: Type.Boolean({
      default: false,
      description: "Also send that reserve upstream as the call's cap, so no call can cost more than it reserved.",
    }),
    reservation_ttl_s: Type.Integer({
      minimum: 10,
      default: 900,
      description: 'A reservation whose call never settles (its instance died) is released after this, s.',
    }),
  },
  {
    ...closed,
    default: {},
    description: "How admission reserves a call's worst-case cost against the budgets that apply ([access-control.md](access-control.md), \"Budgets\").",
  },
);
