/**
 * `/admin/providers/:name/...`: what an operator asks of one configured provider, through the
 * provider's own SDK (loaded on first use, never at start-up; src/admin-providers):
 *
 * - `GET /admin/providers/:name/models`: the models its key can reach, as the provider lists
 *   them (`mock`: the models its deployments name), plus the configured models it does not list.
 * - `POST /admin/providers/:name/check` `{ model? }`: one call with a one-token answer. 200 with
 *   `{ ok: true, latency_ms, model }`, or `{ ok: false, status, error, kind, latency_ms, model }`
 *   where `error` is the provider's own message (the master key holder is the operator) and
 *   `status` its HTTP status (null: no answer). `model` defaults to the first deployment's.
 *
 * Base URL, key and headers come from the running config. An unknown provider is a 404; one
 * switched off for want of a key a 409 naming the environment variable that would switch it on.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ProviderConfig } from '../config/types.js';
import type { ConfigSnapshot } from '../control/config-snapshot.js';
import { overlayField } from '../control/overlay.js';
import { GatewayError } from '../core/errors.js';
import { isRecord } from '../core/is-record.js';
import { geminiModelPath, checkProvider, listProviderModels, ProviderCallError } from '../admin-providers/provider-calls.js';
import { keyVariableOf } from '../admin-providers/key-variable.js';

const NEEDS_KEY = new Set<ProviderConfig['type']>(['openai', 'anthropic', 'gemini']);
const MODEL = /^[^\s\u0000-\u001f\u007f]{1,256}$/;

interface Found {
  provider: ProviderConfig;
  snapshot: ConfigSnapshot;
}

/** The models the config's deployments name for provider `name`, in config order, once each. */
function configuredModels(snapshot: ConfigSnapshot, name: string): string[] {
  const models = snapshot.config.models.flatMap((group) => group.deployments.filter((d) => d.provider === name).map((d) => d.model));
  return [...new Set(models)];
}

export function registerAdminProviders(app: FastifyInstance): void {
  const { requireAdmin } = app.gateway;

  /** The provider as the running config has it; answers 404 or 409 itself and returns undefined. */
  async function find(name: string, reply: FastifyReply): Promise<Found | undefined> {
    const snapshot = app.gateway.control.current;
    const { providers } = snapshot.config;
    if (!Object.hasOwn(providers, name)) throw new GatewayError('not_found', `there is no provider '${name.slice(0, 128)}' (not under providers: in the running config)`, { param: 'name' });
    const provider = providers[name]!;
    const disabled = NEEDS_KEY.has(provider.type) && !(provider as { api_key?: string }).api_key;
    if (!disabled) return { provider, snapshot };
    const overlay = snapshot.info.overlay.get(overlayField('providers', name));
    const { variable, fromConfig } = await keyVariableOf(name, provider.type, {
      overlayEntry: overlay,
      configFile: app.gateway.control.view().config_file,
    });
    const remedy = fromConfig
      ? `its api_key reads \${${variable}}, which is empty or unset. Set ${variable} in the gateway's environment and restart it`
      : `its api_key is empty or absent. Write api_key: "\${${variable}}" under providers.${name} and set ${variable} in the gateway's environment`;
    await reply.code(409).send({
      error: {
        message: `provider '${name}' is off for want of a key: ${remedy}, or give the provider a key through PUT /admin/config/providers/${name}.`,
        type: 'invalid_request_error',
        param: 'name',
        code: 'provider_disabled',
      },
    });
    return undefined;
  }

  app.get<{ Params: { name: string } }>('/admin/providers/:name/models', { preHandler: requireAdmin }, async (request, reply) => {
    const found = await find(request.params.name, reply);
    if (!found) return reply;
    const { provider, snapshot } = found;
    const name = request.params.name;
    const configured = configuredModels(snapshot, name);
    let models;
    try {
      models = await listProviderModels(provider, configured);
    } catch (err) {
      if (!(err instanceof ProviderCallError)) throw err;
      const { failure } = err;
      const said = failure.status === null ? failure.message : `answered ${failure.status}: ${failure.message}`;
      throw new GatewayError(failure.kind === 'timeout' ? 'upstream_timeout' : 'upstream_error', `listing the models of provider '${name}' failed: ${said}`);
    }
    const listed = new Set(models.map((m) => m.id));
    return {
      provider: name,
      type: provider.type,
      models,
      // A configured model the listing lacks: a typo, or a model this key cannot reach.
      configured_not_listed: configured.filter((m) => !listed.has(m) && !listed.has(m.replace(/^models\//, ''))),
    };
  });

  app.post<{ Params: { name: string } }>('/admin/providers/:name/check', { preHandler: requireAdmin }, async (request, reply) => {
    const body: unknown = request.body ?? {};
    if (!isRecord(body)) throw new GatewayError('invalid_request', 'the body must be a JSON object: { "model"?: string }');
    const unknown = Object.keys(body).find((key) => key !== 'model');
    if (unknown !== undefined) throw new GatewayError('invalid_request', `unknown field '${unknown.slice(0, 64)}': the body takes only 'model'`, { param: unknown.slice(0, 64) });
    if (body.model !== undefined && (typeof body.model !== 'string' || !MODEL.test(body.model))) {
      throw new GatewayError('invalid_request', "'model' must be a model id (1 to 256 characters, no spaces)", { param: 'model' });
    }
    const found = await find(request.params.name, reply);
    if (!found) return reply;
    const { provider, snapshot } = found;
    const name = request.params.name;
    const model = (body.model as string | undefined) ?? configuredModels(snapshot, name)[0] ?? (provider.type === 'mock' ? 'mock' : undefined);
    if (model === undefined) {
      throw new GatewayError('missing_field', `no deployment uses provider '${name}': name the model to check ({ "model": "…" })`, { param: 'model' });
    }
    if (provider.type === 'gemini' && !geminiModelPath(model)) {
      throw new GatewayError('invalid_request', `'${model}' is not a Gemini model name`, { param: 'model' });
    }
    const outcome = await checkProvider(provider, model, snapshot.registry.adapters.get(name));
    request.log.info({ provider: name, model, ok: outcome.ok, status: outcome.ok ? 200 : outcome.status, latency_ms: outcome.latency_ms }, 'provider check');
    return { provider: name, type: provider.type, ...outcome };
  });
}
