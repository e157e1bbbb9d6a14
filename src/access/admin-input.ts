/**
 * Request bodies of the access admin routes: JSON schemas for Fastify's validator, plus what a
 * schema cannot say here (unknown fields are refused, not dropped; dates parse).
 */
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { AccessStore } from './access-store.js';
import type { Policy } from './types.js';

const names = { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 256 } } as const;
const limit = { type: ['integer', 'null'], minimum: 1 } as const;

/** The policy fields shared by keys and teams. */
export const policyProperties = {
  models: names,
  prompts: names,
  services: names,
  rpm: limit,
  tpm: limit,
  budget_usd: { type: ['number', 'null'], minimum: 0 },
  budget_period: { enum: ['day', 'week', 'month', 'total'] },
} as const;

export const POLICY_FIELDS = Object.keys(policyProperties) as Array<keyof Policy>;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/** Fastify's validator drops unknown fields silently; an admin's typo (`rmp`) must be an error instead. */
export function refuseUnknown(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const field of Object.keys(body)) {
    if (!allowed.includes(field)) {
      throw new GatewayError('invalid_request', `unknown field '${field}' (allowed: ${allowed.join(', ')})`, { param: field });
    }
  }
}

/** The policy fields present in `body`, ready to spread over a record. */
export function policyPatch(body: Partial<Policy>): Partial<Policy> {
  const patch: Partial<Policy> = {};
  for (const field of POLICY_FIELDS) {
    if (body[field] !== undefined) (patch as Record<string, unknown>)[field] = body[field];
  }
  return patch;
}

/** An ISO date-time in the future or past, normalised; null clears it. */
export function parseExpiry(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new GatewayError('invalid_request', `'expires_at' must be an ISO 8601 date-time`, { param: 'expires_at' });
  return new Date(time).toISOString();
}

/** Appends an admin action to the audit log; the master key is the only admin credential. */
export async function recordAudit(
  store: AccessStore,
  request: FastifyRequest,
  action: string,
  target: string,
  details?: Record<string, unknown>,
): Promise<void> {
  await store.appendAudit({ time: new Date().toISOString(), actor: 'master', ip: request.ip, action, target, ...(details ? { details } : {}) });
}

/** Retries a compare-and-set update a few times when another admin changed the record meanwhile. */
export async function withRetries<T>(update: () => Promise<T | 'conflict'>): Promise<T> {
  for (let i = 0; i < 5; i++) {
    const result = await update();
    if (result !== 'conflict') return result;
  }
  throw new GatewayError('service_unavailable', 'the record keeps changing; try again', { retryAfter: 1 });
}
