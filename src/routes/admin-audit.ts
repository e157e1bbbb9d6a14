import type { FastifyInstance } from 'fastify';
import { maskAuditEntry } from '../control/mask-secrets.js';
import { GatewayError } from '../core/errors.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;

/** `GET /admin/audit?limit=`: admin actions, newest first: who (credential and address), what, when. */
export function registerAdminAudit(app: FastifyInstance): void {
  const { access, requireAdmin } = app.gateway;
  app.get('/admin/audit', { preHandler: requireAdmin }, async (request) => {
    const raw = (request.query as Record<string, unknown>).limit;
    const limit = raw === undefined ? DEFAULT_LIMIT : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new GatewayError('invalid_request', `'limit' must be an integer from 1 to ${MAX_LIMIT}`, { param: 'limit' });
    }
    // Config changes logged by an older gateway were masked by a list of names: masked again here.
    return { entries: (await access.store.listAudit(limit)).map(maskAuditEntry) };
  });
}
