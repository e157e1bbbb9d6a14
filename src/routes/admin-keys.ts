/**
 * `/admin/keys`: create (the secret is answered once, stored only as a hash), list, read,
 * update and revoke API keys (master key). No answer, log line or audit entry holds a secret.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import { idParams, parseExpiry, policyPatch, recordAudit, refuseUnknown, withRetries } from '../access/admin-input.js';
import type { AccessControl } from '../access/access-control.js';
import { keyVersionField } from '../access/redis-access-store.js';
import { generateSecret, hashSecret, hintOf, newId } from '../access/secrets.js';
import { EMPTY_POLICY, type KeyRecord } from '../access/types.js';
import { createKeyBody, fieldsOf, listKeysQuery, updateKeyBody } from './admin-schema.js';

/** Create and update take the same fields (update: each optional). */
const KEY_FIELDS = fieldsOf(createKeyBody);

/** A key as the admin API shows it: everything but its hash, plus its spend this budget period. */
function keyView(key: KeyRecord, spentNano: number) {
  const { hash: _hash, ...rest } = key;
  return { ...rest, spend_usd: spentNano / 1e9 };
}

function scopeOf(key: KeyRecord) {
  return { id: keyVersionField(key.id), version: key.version, rpm: null, tpm: null, budgetNano: null, period: key.budget_period };
}

async function view(access: AccessControl, key: KeyRecord) {
  const [spent] = await access.counters.spend([scopeOf(key)], Date.now());
  return keyView(key, spent ?? 0);
}

/** A team given by id or by name, as its id. */
async function resolveTeam(access: AccessControl, team: string | null | undefined): Promise<string | null | undefined> {
  if (team === undefined || team === null) return team;
  if (await access.store.getTeam(team)) return team;
  const byName = (await access.store.listTeams()).find((t) => t.name === team);
  if (!byName) throw new GatewayError('invalid_request', `no team '${team}'`, { param: 'team' });
  return byName.id;
}

async function getKeyOr404(access: AccessControl, id: string): Promise<KeyRecord> {
  const key = await access.store.getKey(id);
  if (!key) throw new GatewayError('not_found', `no key '${id}'`, { param: 'id' });
  return key;
}

export function registerAdminKeys(app: FastifyInstance): void {
  const { access, requireAdmin } = app.gateway;
  // Typed by the schemas: `request.body` and `request.query` are their Static, so each schema is its input's one source.
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.post('/admin/keys', { preHandler: requireAdmin, schema: { body: createKeyBody } }, async (request, reply) => {
    const body = request.body;
    refuseUnknown(body, KEY_FIELDS);
    const team = (await resolveTeam(access, body.team)) ?? null;
    const secret = generateSecret();
    const now = new Date().toISOString();
    const draft: KeyRecord = {
      ...EMPTY_POLICY,
      ...policyPatch(body),
      id: newId('key'),
      name: body.name,
      team,
      hash: hashSecret(secret),
      hint: hintOf(secret),
      expires_at: parseExpiry(body.expires_at) ?? null,
      revoked_at: null,
      created_at: now,
      updated_at: now,
      version: 1,
    };
    const key = await access.store.createKey(draft);
    await recordAudit(access.store, request, 'key.create', key.id, { name: key.name, team, ...policyPatch(body), expires_at: key.expires_at });
    return reply.code(201).send({ ...keyView(key, 0), key: secret });
  });

  routes.get('/admin/keys', { preHandler: requireAdmin, schema: { querystring: listKeysQuery } }, async (request) => {
    const { team } = request.query;
    const keys = (await access.store.listKeys())
      .filter((key) => team === undefined || key.team === team)
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
    const spent = await access.counters.spend(keys.map(scopeOf), Date.now());
    return { keys: keys.map((key, i) => keyView(key, spent[i] ?? 0)) };
  });

  routes.get('/admin/keys/:id', { preHandler: requireAdmin, schema: { params: idParams } }, async (request) => {
    const { id } = request.params as { id: string };
    return view(access, await getKeyOr404(access, id));
  });

  routes.patch('/admin/keys/:id', { preHandler: requireAdmin, schema: { params: idParams, body: updateKeyBody } }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body;
    refuseUnknown(body, KEY_FIELDS);
    const changes: Partial<KeyRecord> = { ...policyPatch(body) };
    if (body.name !== undefined) changes.name = body.name;
    if (body.team !== undefined) changes.team = (await resolveTeam(access, body.team)) ?? null;
    if (body.expires_at !== undefined) changes.expires_at = parseExpiry(body.expires_at) ?? null;
    const key = await withRetries(async () => {
      const current = await getKeyOr404(access, id);
      if (current.revoked_at !== null) throw new GatewayError('invalid_request', `key '${id}' is revoked and cannot change`, { param: 'id' });
      const next: KeyRecord = { ...current, ...changes, updated_at: new Date().toISOString(), version: current.version + 1 };
      return (await access.store.replaceKey(next)) ? next : 'conflict';
    });
    await recordAudit(access.store, request, 'key.update', id, changes);
    return view(access, key);
  });

  // Revokes rather than erases: the key's id stays in reports and its record explains why it stopped.
  routes.delete('/admin/keys/:id', { preHandler: requireAdmin, schema: { params: idParams } }, async (request) => {
    const { id } = request.params as { id: string };
    const key = await withRetries(async () => {
      const current = await getKeyOr404(access, id);
      if (current.revoked_at !== null) return current;
      const now = new Date().toISOString();
      const next: KeyRecord = { ...current, revoked_at: now, updated_at: now, version: current.version + 1 };
      return (await access.store.replaceKey(next)) ? next : 'conflict';
    });
    await recordAudit(access.store, request, 'key.revoke', id);
    return view(access, key);
  });
}
