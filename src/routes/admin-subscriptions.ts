/**
 * `/admin/subscriptions`: a team asks for (or an admin grants) access to a prompt API or
 * service marked `approval: required`; the admin approves or revokes it (master key).
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import { idParams, recordAudit, refuseUnknown } from '../access/admin-input.js';
import type { AccessControl } from '../access/access-control.js';
import { newId } from '../access/secrets.js';
import type { Subscription, SubscriptionStatus } from '../access/types.js';

const createSchema = {
  type: 'object',
  required: ['team'],
  properties: {
    team: { type: 'string', minLength: 1 },
    prompt: { type: 'string', minLength: 1, maxLength: 256 },
    service: { type: 'string', minLength: 1, maxLength: 256 },
  },
} as const;

const listQuery = {
  type: 'object',
  properties: { team: { type: 'string' }, status: { enum: ['pending', 'approved', 'revoked'] } },
} as const;

async function getOr404(access: AccessControl, id: string): Promise<Subscription> {
  const sub = await access.store.getSubscription(id);
  if (!sub) throw new GatewayError('not_found', `no subscription '${id}'`, { param: 'id' });
  return sub;
}

export function registerAdminSubscriptions(app: FastifyInstance): void {
  const { access, requireAdmin } = app.gateway;

  app.post('/admin/subscriptions', { preHandler: requireAdmin, schema: { body: createSchema } }, async (request, reply) => {
    const body = request.body as { team: string; prompt?: string; service?: string };
    refuseUnknown(body, ['team', 'prompt', 'service']);
    if ((body.prompt === undefined) === (body.service === undefined)) {
      throw new GatewayError('invalid_request', "give exactly one of 'prompt' or 'service'", { param: 'prompt' });
    }
    if (!(await access.store.getTeam(body.team))) throw new GatewayError('invalid_request', `no team '${body.team}'`, { param: 'team' });
    const kind = body.prompt !== undefined ? 'prompt' : 'service';
    const name = (body.prompt ?? body.service)!;
    // One subscription per team and API: asking again answers the existing one.
    const existing = await access.store.findSubscription(body.team, kind, name);
    if (existing) return existing;
    const now = new Date().toISOString();
    const sub: Subscription = { id: newId('sub'), team: body.team, kind, name, status: 'pending', created_at: now, updated_at: now };
    await access.store.putSubscription(sub);
    await recordAudit(access.store, request, 'subscription.create', sub.id, { team: sub.team, [kind]: name });
    return reply.code(201).send(sub);
  });

  app.get('/admin/subscriptions', { preHandler: requireAdmin, schema: { querystring: listQuery } }, async (request) => {
    const { team, status } = request.query as { team?: string; status?: SubscriptionStatus };
    const subs = (await access.store.listSubscriptions())
      .filter((sub) => (team === undefined || sub.team === team) && (status === undefined || sub.status === status))
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
    return { subscriptions: subs };
  });

  const transition = (action: 'approve' | 'revoke', status: SubscriptionStatus) =>
    app.post(`/admin/subscriptions/:id/${action}`, { preHandler: requireAdmin, schema: { params: idParams } }, async (request) => {
      const { id } = request.params as { id: string };
      const current = await getOr404(access, id);
      if (current.status === status) return current;
      const sub: Subscription = { ...current, status, updated_at: new Date().toISOString() };
      await access.store.putSubscription(sub);
      await recordAudit(access.store, request, `subscription.${action}`, id, { team: sub.team, [sub.kind]: sub.name });
      return sub;
    });
  transition('approve', 'approved');
  transition('revoke', 'revoked');
}
