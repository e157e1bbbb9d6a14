/** `/admin/teams`: create, list, read, update and delete teams (master key). */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import { idParams, policyPatch, recordAudit, refuseUnknown, withRetries } from '../access/admin-input.js';
import type { AccessControl } from '../access/access-control.js';
import { teamVersionField } from '../access/redis-access-store.js';
import { EMPTY_POLICY, type TeamRecord } from '../access/types.js';
import { createTeamBody, fieldsOf, TEAM_ID, updateTeamBody } from './admin-schema.js';

const CREATE_FIELDS = fieldsOf(createTeamBody);
const UPDATE_FIELDS = fieldsOf(updateTeamBody);

/** `Data Science` → `data-science`: ids are what the ledger and reports show, so keep them readable. */
export function slugOf(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}

/** A team as the admin API shows it, with its spend in the current budget period. */
export async function teamView(access: AccessControl, team: TeamRecord, spentNano?: number) {
  const spent = spentNano ?? (await access.counters.spend([scopeOf(team)], Date.now()))[0] ?? 0;
  return { ...team, spend_usd: spent / 1e9 };
}

function scopeOf(team: TeamRecord) {
  return { id: teamVersionField(team.id), version: team.version, rpm: null, tpm: null, budgetNano: null, period: team.budget_period };
}

async function getTeamOr404(access: AccessControl, id: string): Promise<TeamRecord> {
  const team = await access.store.getTeam(id);
  if (!team) throw new GatewayError('not_found', `no team '${id}'`, { param: 'id' });
  return team;
}

export function registerAdminTeams(app: FastifyInstance): void {
  const { access, requireAdmin } = app.gateway;
  // Typed by the schemas: `request.body` is their Static, so each schema is its body's one source.
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.post('/admin/teams', { preHandler: requireAdmin, schema: { body: createTeamBody } }, async (request, reply) => {
    const body = request.body;
    refuseUnknown(body, CREATE_FIELDS);
    const id = body.id ?? slugOf(body.name);
    if (!new RegExp(TEAM_ID).test(id)) {
      throw new GatewayError('invalid_request', `cannot make an id from the name '${body.name}': give an 'id'`, { param: 'id' });
    }
    const now = new Date().toISOString();
    const draft: TeamRecord = { ...EMPTY_POLICY, ...policyPatch(body), id, name: body.name, created_at: now, updated_at: now, version: 1 };
    const team = await access.store.createTeam(draft);
    if (!team) throw new GatewayError('invalid_request', `a team with id '${id}' already exists`, { param: 'id' });
    await recordAudit(access.store, request, 'team.create', id, { ...policyPatch(body), name: team.name });
    return reply.code(201).send(await teamView(access, team, 0));
  });

  routes.get('/admin/teams', { preHandler: requireAdmin }, async () => {
    const teams = (await access.store.listTeams()).sort((a, b) => a.id.localeCompare(b.id));
    const spent = await access.counters.spend(teams.map(scopeOf), Date.now());
    return { teams: await Promise.all(teams.map((team, i) => teamView(access, team, spent[i] ?? 0))) };
  });

  routes.get('/admin/teams/:id', { preHandler: requireAdmin, schema: { params: idParams } }, async (request) => {
    const { id } = request.params as { id: string };
    return teamView(access, await getTeamOr404(access, id));
  });

  routes.patch('/admin/teams/:id', { preHandler: requireAdmin, schema: { params: idParams, body: updateTeamBody } }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body;
    refuseUnknown(body, UPDATE_FIELDS);
    const changes = { ...policyPatch(body), ...(body.name !== undefined ? { name: body.name } : {}) };
    const team = await withRetries(async () => {
      const current = await getTeamOr404(access, id);
      const next: TeamRecord = { ...current, ...changes, updated_at: new Date().toISOString(), version: current.version + 1 };
      return (await access.store.replaceTeam(next)) ? next : 'conflict';
    });
    await recordAudit(access.store, request, 'team.update', id, changes);
    return teamView(access, team);
  });

  routes.delete('/admin/teams/:id', { preHandler: requireAdmin, schema: { params: idParams } }, async (request) => {
    const { id } = request.params as { id: string };
    await withRetries(async () => {
      const current = await getTeamOr404(access, id);
      const active = (await access.store.listKeys()).filter((key) => key.team === id && key.revoked_at === null);
      if (active.length > 0) {
        throw new GatewayError('invalid_request', `team '${id}' still has ${active.length} active key(s): revoke them or move them to another team first`, {
          param: 'id',
        });
      }
      return (await access.store.deleteTeam(id, current.version)) ? true : 'conflict';
    });
    await recordAudit(access.store, request, 'team.delete', id);
    return { id, deleted: true };
  });
}
