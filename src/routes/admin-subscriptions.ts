/**
 * `/admin/subscriptions`: a team asks for (or an admin grants) access to a prompt API or
 * service marked `approval: required`; the admin approves or revokes it (master key).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import { idParams, recordAudit, refuseUnknown } from '../access/admin-input.js';
import type { AccessControl } from '../access/access-control.js';
import { newId } from '../access/secrets.js';
import type { Subscription, SubscriptionKind, SubscriptionStatus } from '../access/types.js';
import { createSubscriptionBody, fieldsOf, listSubscriptionsQuery, type CreateSubscriptionBody } from './admin-schema.js';

const CREATE_FIELDS = fieldsOf(createSubscriptionBody);

/** The API the body names; a schema could say "exactly one" only as a union, whose faults read worse. */
function targetOf(body: CreateSubscriptionBody): { kind: SubscriptionKind; name: string } {
  if (body.prompt !== undefined && body.service === undefined) return { kind: 'prompt', name: body.prompt };
  if (body.service !== undefined && body.prompt === undefined) return { kind: 'service', name: body.service };
  throw new GatewayError('invalid_request', "give exactly one of 'prompt' or 'service'", { param: 'prompt' });
}

async function getOr404(access: AccessControl, id: string): Promise<Subscription> {
  const sub = await access.store.getSubscription(id);
  if (!sub) throw new GatewayError('not_found', `no subscription '${id}'`, { param: 'id' });
  return sub;
}

export function registerAdminSubscriptions(app: FastifyInstance): void {
  const { access, requireAdmin } = app.gateway;
  // Typed by the schemas: `request.body` and `request.query` are their Static, so each schema is its input's one source.
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.post('/admin/subscriptions', { preHandler: requireAdmin, schema: { body: createSubscriptionBody } }, async (request, reply) => {
    const body = request.body;
    refuseUnknown(body, CREATE_FIELDS);
    const { kind, name } = targetOf(body);
    if (!(await access.store.getTeam(body.team))) throw new GatewayError('invalid_request', `no team '${body.team}'`, { param: 'team' });
    // One subscription per team and API: asking again answers the existing one.
    const existing = await access.store.findSubscription(body.team, kind, name);
    if (existing) return existing;
    const now = new Date().toISOString();
    const sub: Subscription = { id: newId('sub'), team: body.team, kind, name, status: 'pending', created_at: now, updated_at: now };
    await access.store.putSubscription(sub);
    await recordAudit(access.store, request, 'subscription.create', sub.id, { team: sub.team, [kind]: name });
    return reply.code(201).send(sub);
  });

  routes.get('/admin/subscriptions', { preHandler: requireAdmin, schema: { querystring: listSubscriptionsQuery } }, async (request) => {
    const { team, status } = request.query;
    const subs = (await access.store.listSubscriptions())
      .filter((sub) => (team === undefined || sub.team === team) && (status === undefined || sub.status === status))
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
    return { subscriptions: subs };
  });

  const transition = (action: 'approve' | 'revoke', status: SubscriptionStatus) =>
    routes.post(`/admin/subscriptions/:id/${action}`, { preHandler: requireAdmin, schema: { params: idParams } }, async (request) => {
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
