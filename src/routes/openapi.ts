/**
 * `GET /openapi.json`: the OpenAPI document of the prompt APIs, as the caller may use them. It is
 * identified like `GET /prompts` (401 without a key when `auth.require_keys`), and lists only the
 * prompts the key's permissions allow, and those with `approval: required` only when the key's
 * team holds an approved subscription: the document names no API the caller would get 403 from.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mayUse } from '../access/permissions.js';
import type { Caller } from '../core/caller.js';
import { GatewayError } from '../core/errors.js';
import { isRecord } from '../core/is-record.js';
import type { ApprovalCheck } from '../prompts/approval.js';
import { buildOpenApi } from '../prompts/openapi.js';
import type { PromptRegistry } from '../prompts/prompt-registry.js';
import type { Prompt } from '../prompts/prompt-types.js';

type Json = Record<string, unknown>;

/** Every prompt operation of the registry: its path in the document and the prompt version it calls. */
function operations(registry: PromptRegistry): Array<{ path: string; prompt: Prompt }> {
  return registry.list().flatMap((entry) => {
    const route = registry.routeOf(entry);
    return [{ path: route, prompt: entry.latest }, ...entry.versions.slice(1).map((older) => ({ path: `${route}@${older.spec.version}`, prompt: older }))];
  });
}

/** Whether `caller` may call `prompt`: the checks `POST /prompts/*` makes before it runs one. */
async function mayCall(caller: Caller, prompt: Prompt, checkApproval: ApprovalCheck, approvals: Map<string, Promise<boolean>>): Promise<boolean> {
  if (!mayUse(caller, 'prompts', prompt.spec.name)) return false;
  if (prompt.spec.approval !== 'required') return true;
  let approved = approvals.get(prompt.spec.name);
  if (!approved) {
    // A refusal (403) hides the prompt; anything else (the store is down: 503) answers the request.
    approved = checkApproval(caller, prompt).then(
      () => true,
      (err: unknown) => {
        if (err instanceof GatewayError && err.code === 'forbidden') return false;
        throw err;
      },
    );
    approvals.set(prompt.spec.name, approved);
  }
  return approved;
}

export function registerOpenApi(app: FastifyInstance, registry: PromptRegistry, checkApproval: ApprovalCheck): void {
  const { access } = app.gateway;
  // The whole document, rebuilt only when the registry changed since it was last built.
  let full: { revision: number; doc: Json } | undefined;

  app.get(
    '/openapi.json',
    {
      // Identified and checked current like the other prompt listings, counted nowhere.
      onRequest: (request: FastifyRequest) => access.identify(request),
      preHandler: (request: FastifyRequest, reply: FastifyReply) => access.admit(request, reply, { count: false }),
    },
    async (request) => {
      if (full?.revision !== registry.revision) {
        const requireKeys = app.gateway.config.auth.require_keys;
        full = { revision: registry.revision, doc: buildOpenApi(registry, { title: 'Konnect prompt APIs', version: '1.0.0', requireKeys }) };
      }
      const { doc } = full;
      const approvals = new Map<string, Promise<boolean>>();
      const all = operations(registry);
      const hidden = new Set<string>();
      await Promise.all(
        all.map(async ({ path, prompt }) => {
          if (!(await mayCall(request.caller, prompt, checkApproval, approvals))) hidden.add(path);
        }),
      );
      if (hidden.size === 0) return doc;
      const paths = Object.fromEntries(Object.entries(isRecord(doc.paths) ? doc.paths : {}).filter(([path]) => !hidden.has(path)));
      return { ...doc, paths };
    },
  );
}
