/**
 * Bodies and querystrings of the access admin routes (`/admin/teams`, `/admin/keys`,
 * `/admin/subscriptions`): JSON Schema for Fastify's validator and, as their `Static`, the types
 * the handlers read. What a schema cannot say here stays in the handlers: an unknown field is
 * refused, not dropped (`refuseUnknown`, allowed fields read from these schemas); dates parse.
 */
import { Type, type Static, type TUnsafe } from '@sinclair/typebox';
import { policyProperties } from '../access/admin-input.js';
import type { Policy, SubscriptionStatus } from '../access/types.js';
import { NOT_RESERVED, NOT_RESERVED_AHEAD } from '../config/names.js';
import { StringEnum } from '../config/schema-builders.js';
import { Nullable } from './body-schema-builders.js';

/**
 * One policy field: its JSON Schema is admin-input's `policyProperties` (plain JSON Schema, which
 * the access layer also reads its POLICY_FIELDS from), its type the `Policy` field it sets. That
 * pairing is the one link `tsc` cannot check here; the field names are checked below.
 */
function policyField<K extends keyof Policy & keyof typeof policyProperties>(field: K): TUnsafe<Policy[K]> {
  return Type.Unsafe<Policy[K]>(policyProperties[field]);
}

/** The policy fields shared by keys and teams, each optional in a body: absent means unchanged (or the default). */
const policyFields = {
  models: Type.Optional(policyField('models')),
  prompts: Type.Optional(policyField('prompts')),
  services: Type.Optional(policyField('services')),
  rpm: Type.Optional(policyField('rpm')),
  tpm: Type.Optional(policyField('tpm')),
  budget_usd: Type.Optional(policyField('budget_usd')),
  budget_period: Type.Optional(policyField('budget_period')),
};

/**
 * A team id: a slug, as the ledger and reports show it. The reserved names are refused inside
 * the pattern: the route also tests an id it derives from a team's name with it (`Constructor`).
 */
export const TEAM_ID = `^${NOT_RESERVED_AHEAD}[a-z0-9][a-z0-9_-]{0,63}$`;

/**
 * A name an admin gives (a team's or a key's display name) or uses to point at a team, prompt or
 * service: free text, but never a reserved name (src/config/names.ts), as it may key a map.
 */
function AdminName(maxLength: number) {
  return Type.String({ minLength: 1, maxLength, ...NOT_RESERVED });
}

const teamName = AdminName(128);

export const createTeamBody = Type.Object({ id: Type.Optional(Type.String({ pattern: TEAM_ID })), name: teamName, ...policyFields });
export type CreateTeamBody = Static<typeof createTeamBody>;

/** The id is the team's name in the ledger, so it never changes. */
export const updateTeamBody = Type.Object({ name: Type.Optional(teamName), ...policyFields });
export type UpdateTeamBody = Static<typeof updateTeamBody>;

export const createKeyBody = Type.Object({
  name: AdminName(128),
  /** A team id or name; null: a key of its own. */
  team: Type.Optional(Nullable(AdminName(128))),
  /** ISO 8601 date-time, parsed by the route; null: never expires. */
  expires_at: Type.Optional(Nullable(Type.String())),
  ...policyFields,
});
export type CreateKeyBody = Static<typeof createKeyBody>;

/** The create body's fields, every one optional. */
export const updateKeyBody = Type.Partial(createKeyBody);
export type UpdateKeyBody = Static<typeof updateKeyBody>;

export const listKeysQuery = Type.Object({ team: Type.Optional(Type.String({ maxLength: 128, ...NOT_RESERVED })) });

/** Exactly one of `prompt` and `service`: checked by the route, which words the fault. */
export const createSubscriptionBody = Type.Object({
  team: AdminName(128),
  prompt: Type.Optional(AdminName(256)),
  service: Type.Optional(AdminName(256)),
});
export type CreateSubscriptionBody = Static<typeof createSubscriptionBody>;

export const listSubscriptionsQuery = Type.Object({
  team: Type.Optional(Type.String({ maxLength: 128, ...NOT_RESERVED })),
  status: Type.Optional(StringEnum(['pending', 'approved', 'revoked'])),
});

/** The fields a body may hold, in schema order, for `refuseUnknown` and its message. */
export function fieldsOf(schema: { properties: object }): string[] {
  return Object.keys(schema.properties);
}

/*
 * Compile-time checks: the policy fields here are exactly admin-input's and `Policy`'s, and the
 * listing filter takes exactly the statuses a subscription has.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;

type AdminShapesMatch = [
  Holds<Same<keyof typeof policyFields, keyof typeof policyProperties>>,
  Holds<Same<keyof typeof policyFields, keyof Policy>>,
  Holds<Same<Required<Static<typeof listSubscriptionsQuery>>['status'], SubscriptionStatus>>,
];
