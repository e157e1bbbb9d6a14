/**
 * The control plane's admin API (master key): `GET /admin/config` (the effective config,
 * secrets masked), `PUT`/`DELETE /admin/config/{models,services,providers}/<name>` (validated
 * like the file; stored in Redis and applied on every instance, or on this one without Redis,
 * `?persist=true` writing it to the file too) and `GET /admin/config/audit`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { recordAudit } from '../access/admin-input.js';
import { AUDIT_CAPACITY } from '../access/access-store.js';
import { NOT_RESERVED } from '../config/names.js';
import type { ControlPlane } from '../control/control-plane.js';
import { maskAuditEntry } from '../control/mask-secrets.js';
import { SECTIONS, type Section } from '../control/overlay.js';
import { GatewayError } from '../core/errors.js';
import { isRecord } from '../core/is-record.js';

const DEFAULT_LIMIT = 100;

/**
 * The `:name` of a config entry. A reserved name is refused before anything is stored or
 * audited: merged into the providers map, `__proto__` would replace the map's prototype instead
 * of adding a provider, and pass validation as if nothing had changed. The section's own rules
 * (a group name's characters, a provider name without `/`) are the config validator's.
 */
const entryParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 256, ...NOT_RESERVED } },
} as const;

function flag(request: FastifyRequest, name: string): boolean {
  const value = (request.query as Record<string, unknown>)[name];
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw new GatewayError('invalid_request', `'${name}' must be true or false`, { param: name });
}

/** The PUT body as the overlay stores it: the entry without its name, which the path gives. */
function entryFrom(section: Section, name: string, body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw new GatewayError('invalid_request', `send the ${section} entry as a JSON object`);
  if (section === 'providers') return body;
  const { name: given, ...entry } = body;
  if (given !== undefined && given !== name) {
    throw new GatewayError('invalid_request', `'name' is '${String(given)}' but the path names '${name}'`, { param: 'name' });
  }
  return entry;
}

export function registerAdminConfig(app: FastifyInstance, control: ControlPlane): void {
  const { access, requireAdmin } = app.gateway;

  app.get('/admin/config', { preHandler: requireAdmin }, async () => control.view());

  app.get('/admin/config/audit', { preHandler: requireAdmin }, async (request) => {
    const raw = (request.query as Record<string, unknown>).limit;
    const limit = raw === undefined ? DEFAULT_LIMIT : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_CAPACITY) {
      throw new GatewayError('invalid_request', `'limit' must be an integer from 1 to ${AUDIT_CAPACITY}`, { param: 'limit' });
    }
    // Config changes share the admin audit log (GET /admin/audit) with keys, teams and subscriptions.
    const entries = await access.store.listAudit(AUDIT_CAPACITY);
    return { entries: entries.filter((entry) => entry.action.startsWith('config.')).slice(0, limit).map(maskAuditEntry) };
  });

  for (const section of SECTIONS) {
    const change = async (request: FastifyRequest, entry: Record<string, unknown> | null) => {
      const { name } = request.params as { name: string };
      const outcome = await control.change({ section, name, entry, persist: flag(request, 'persist') });
      try {
        await recordAudit(access.store, request, `config.${section}.${entry ? 'put' : 'delete'}`, name, {
          request_id: request.clientRequestId ?? request.id,
          version: outcome.version,
          before: outcome.before,
          after: outcome.after,
          ...(outcome.persisted ? { persisted: true } : {}),
        });
      } catch (err) {
        // The change is in force already; failing the answer now would only hide that.
        request.log.error({ err, section, name, version: outcome.version }, 'config change applied but not written to the audit log');
      }
      return { section, name, ...outcome, source: control.current.info.source };
    };

    app.put(`/admin/config/${section}/:name`, { preHandler: requireAdmin, schema: { params: entryParams } }, async (request, reply) => {
      const { name } = request.params as { name: string };
      const answer = await change(request, entryFrom(section, name, request.body));
      return reply.code(answer.before === null ? 201 : 200).send(answer);
    });

    app.delete(`/admin/config/${section}/:name`, { preHandler: requireAdmin, schema: { params: entryParams } }, async (request) => change(request, null));
  }
}
