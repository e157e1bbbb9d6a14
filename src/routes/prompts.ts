/**
 * Prompt APIs: `POST /prompts/<name>` (or the file's `path`, `@<version>` for an older one),
 * `GET /prompts` and `GET /openapi.json`. A call validates its body against the prompt's input
 * schema, renders the messages and runs them through the same pipeline and reply helpers as
 * `/v1/chat/completions`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mayUse } from '../access/permissions.js';
import { planCache } from '../cache/cache-plan.js';
import { runPromptThroughCache, type PromptResult } from '../cache/cached-prompt.js';
import { streamThroughCache } from '../cache/serve-cached.js';
import { UNKNOWN_NAME } from '../config/names.js';
import { GatewayError } from '../core/errors.js';
import { isRecord } from '../core/is-record.js';
import type { ChatRequest } from '../core/types.js';
import { guardRequest } from '../guardrails/guard-request.js';
import { openAIChatFormat, toOpenAIUsage } from '../http/openai-format.js';
import { refuseWithoutSubscriptions, type ApprovalCheck } from '../prompts/approval.js';
import { inputError } from '../prompts/input-error.js';
import { describePrompt } from '../prompts/describe-prompt.js';
import { PromptCatalog } from '../prompts/prompt-catalog.js';
import { buildPromptRequest, runPrompt } from '../prompts/run-prompt.js';
import { nanoToUsd } from '../usage/pricing.js';
import { registerAdminPrompts } from './admin-prompts.js';
import { registerOpenApi } from './openapi.js';
import { gatewayHeaders } from '../http/gateway-headers.js';
import { replyChatStream, withFailureHeaders } from '../http/render-chat.js';
import { callOf } from './call-of.js';
import { missingKeysOf } from './model-not-served.js';
import { admitPrompt } from '../access/register-access.js';
import { withOutputCap } from '../pipeline/budget-policy.js';
import type { LedgerRoute } from '../usage/ledger-record.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Whether a prompt API of this name is served now (metrics label only known prompts). */
    hasPrompt: (name: string) => boolean;
  }
}

export interface PromptRouteOptions {
  /** The subscription check for `approval: required` prompts; refuses them all when absent. */
  checkApproval?: ApprovalCheck;
  /** Quiet time after a change in the prompts dir before it is reloaded, ms. */
  reloadDebounceMs?: number;
}

function wantsStream(request: FastifyRequest): boolean {
  const flag = (request.query as Record<string, unknown>).stream;
  if (flag === 'true' || flag === '1' || flag === '') return true;
  if (flag === 'false' || flag === '0') return false;
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/event-stream');
}

export async function registerPrompts(app: FastifyInstance, options: PromptRouteOptions = {}): Promise<void> {
  const { config, redis } = app.gateway;
  const catalog = await PromptCatalog.start({
    dir: config.prompts.dir,
    redis,
    keyPrefix: config.store.key_prefix,
    log: app.log.child({ module: 'prompts' }),
    hasModel: (name) => app.gateway.registry.resolve(name) !== undefined,
    debounceMs: options.reloadDebounceMs,
  });
  app.addHook('onClose', () => catalog.close());
  const checkApproval = options.checkApproval ?? refuseWithoutSubscriptions;
  const prompts = catalog.registry;

  /** The prompt a request's path names, if there is one. */
  const promptOf = (request: FastifyRequest) => prompts.resolve(`/prompts/${(request.params as { '*': string })['*']}`);
  // Known before any refusal (no key, over a limit), so every record names a prompt that exists
  // or `prompt:unknown`, never the caller's path.
  const routeOf = (request: FastifyRequest): LedgerRoute => `prompt:${promptOf(request)?.spec.name ?? UNKNOWN_NAME}`;
  app.decorate('hasPrompt', (name: string) => prompts.get(name) !== undefined);

  app.post('/prompts/*', { config: { call: { route: routeOf } } }, async (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    const prompt = promptOf(request);
    if (!prompt) throw new GatewayError('not_found', `no prompt API at /prompts/${rest}`);
    const { spec } = prompt;
    const call = callOf(request);
    call.route = `prompt:${spec.name}`;
    if (!mayUse(request.caller, 'prompts', spec.name)) {
      throw new GatewayError('forbidden', `this key may not call prompt '${spec.name}'`);
    }
    if (spec.approval === 'required') await checkApproval(request.caller, prompt);

    const values = request.body ?? {};
    if (!isRecord(values)) {
      throw new GatewayError('invalid_request', `send prompt '${spec.name}' its variables as a JSON object`);
    }
    if (!prompt.validateInput(values)) throw inputError(spec.name, prompt.validateInput.errors);
    const stream = wantsStream(request);
    if (stream && spec.output.type === 'json') {
      throw new GatewayError('invalid_request', `prompt '${spec.name}' answers JSON, which is checked whole: call it without streaming`, {
        param: 'stream',
      });
    }
    // The call holds the config snapshot it runs on.
    const group = call.services.registry.resolve(spec.model);
    if (!group) {
      const missing = await missingKeysOf(request, call.services.registry, spec.model);
      if (missing) {
        throw new GatewayError('model_unavailable', `prompt '${spec.name}' uses model '${spec.model}', which is configured but none of its deployments can be used: ${missing}`);
      }
      throw new GatewayError('service_unavailable', `prompt '${spec.name}' uses model '${spec.model}', which is not available on this gateway`);
    }

    const policies = app.gateway.policies.forPrompt(prompt, group.name);
    call.model = group.name;
    const req = withOutputCap(guardRequest(call, policies.guardrails, buildPromptRequest(prompt, values)), app.gateway.config.budgets);
    // Counted now that the prompt is rendered: its tokens and worst-case cost are known.
    await admitPrompt(app.gateway.access, request, reply, req, app.gateway.config.budgets, prompt.validateOutput !== undefined);
    const plan = policies.cache && planCache(policies.cache, group.name, req, request.headers['cache-control']);
    if (stream) {
      const streamed: ChatRequest = { ...req, stream: true, stream_options: { include_usage: true } };
      const format = openAIChatFormat(true);
      if (plan) return streamThroughCache(call, reply, app.gateway.cache, plan, format, (observer) => replyChatStream(call, reply, format, group, streamed, observer));
      return replyChatStream(call, reply, format, group, streamed);
    }

    const answer: PromptResult = await withFailureHeaders(reply, call, () =>
      plan ? runPromptThroughCache(call, reply, app.gateway.cache, plan, group, prompt, req) : runPrompt(call, group, prompt, req),
    );
    const cost = nanoToUsd(answer.costNanoUsd);
    reply.headers(gatewayHeaders(call, answer.provider, answer.upstreamModel, answer.attempts));
    reply.header('x-gateway-cost-usd', cost.toFixed(9));
    return {
      id: `prompt-${call.id}`,
      prompt: spec.name,
      version: spec.version,
      model: answer.upstreamModel,
      provider: answer.provider,
      output: answer.output,
      usage: toOpenAIUsage(answer.usage),
      cost_usd: cost,
    };
  });

  app.get('/prompts', async (request) => ({
    prompts: prompts
      .list()
      .filter((entry) => mayUse(request.caller, 'prompts', entry.name))
      .map((entry) => describePrompt(entry.latest, entry.versions, prompts.routeOf(entry))),
  }));

  registerOpenApi(app, prompts, checkApproval);

  registerAdminPrompts(app, catalog);
}
