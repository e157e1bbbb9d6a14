/**
 * Wires the access stage into Fastify. Routes are matched when they are registered (onRoute),
 * so a request pays only for the hooks of its own route:
 * - `POST /v1/chat/completions`, `POST /v1/embeddings`: identify (onRequest, before the body
 *   is read), then admit (model permission, rpm/tpm with a tiktoken estimate, budget);
 * - `POST /prompts/*` and routes with `config: { access: { service: name } }` (services):
 *   identify, then admit (service permission, rpm, budget; tpm from real usage, as the tokens
 *   are only known once the prompt is rendered). Prompt permission and `approval: required`
 *   are checked by the prompt route (`mayUse`, `access.checkSubscription`);
 * - other `/v1/*` and `/prompts` routes (listings): identify, then check the key is still
 *   current, counting nothing. Those among them that translate another API's body into a chat
 *   request (`/v1/responses`, `/v1/messages`, `/v1/completions`) count the call in their
 *   handler with `admitChat`.
 */
import type { Redis } from 'ioredis';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  preHandlerHookHandler,
  RouteOptions,
} from 'fastify';
import type { BudgetsConfig, GatewayConfig } from '../config/types.js';
import type { ModelGroup } from '../core/deployment.js';
import { worstCaseCostNano } from '../usage/pricing.js';
import { REPAIR_OVERHEAD_TOKENS } from '../prompts/json-output.js';
import { isRecord } from '../core/is-record.js';
import type { ChatRequest, EmbeddingRequest } from '../core/types.js';
import { countMessageTokens, countTextTokens } from '../usage/count-tokens.js';
import type { Ledger } from '../usage/ledger.js';
import { AccessControl, type Demand } from './access-control.js';
import { createBudgetAlerts } from './budget-alerts.js';
import { createMemoryAccessStore } from './memory-access-store.js';
import { createMemoryCounters } from './memory-counters.js';
import { createRedisAccessStore } from './redis-access-store.js';
import { createRedisCounters } from './redis-counters.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Puts the route behind the access stage: every call is identified and counted; `service` also checks permission. */
    access?: { service?: string };
  }
}

/** The access layer on Redis when the instance has one, else in process memory. */
export function createAccess(config: GatewayConfig, redis: Redis | undefined, log: FastifyBaseLogger, storeScope: string): AccessControl {
  const prefix = config.store.key_prefix;
  const reservationTtlMs = config.budgets.reservation_ttl_s * 1000;
  return new AccessControl({
    store: redis ? createRedisAccessStore(redis, prefix) : createMemoryAccessStore(),
    counters: redis ? createRedisCounters(redis, prefix, { reservationTtlMs, dedupeTtlS: config.ledger.dedupe_ttl_s }) : createMemoryCounters({ reservationTtlMs }),
    masterKey: config.auth.master_key,
    requireKeys: config.auth.require_keys,
    log,
    alert: createBudgetAlerts(config.auth.budget_alert_webhook, log),
    // On a shared store, spend must survive an outage and a restart like the ledger does.
    durableSettlement: redis ? { spoolDir: config.ledger.spool_dir, storeScope, writeTimeoutMs: config.ledger.write_timeout_ms } : undefined,
  });
}

/**
 * What admission reads of a chat body. It runs in a preHandler added at onRoute, for routes it
 * knows only by URL, so Fastify cannot type `request.body` for it; by then the route's schema has
 * validated the body, and src/routes/chat-schema.ts checks at compile time that the schema's type
 * fits this one. Nulls are still in: the route drops them later. `messages` are typed as core's
 * because the token counter takes those, although the route checks each role's rules only after
 * admission; the counter reads `content` and an assistant's `tool_calls`, which the schema has
 * already checked for every role.
 */
export interface ChatAdmissionBody extends Pick<ChatRequest, 'model' | 'messages'> {
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
}

/** What admission reads of an embeddings body; src/routes/embeddings-schema.ts checks its schema fits. */
export type EmbeddingsAdmissionBody = Pick<EmbeddingRequest, 'model' | 'input'>;

/**
 * The validated chat body, recognised by its two required fields: the schema has checked the rest
 * (see ChatAdmissionBody). Not a validator; a route without that schema fails here, loudly.
 */
function isChatAdmissionBody(body: unknown): body is ChatAdmissionBody {
  return isRecord(body) && typeof body.model === 'string' && Array.isArray(body.messages);
}

/** The validated embeddings body, recognised by its two required fields (see isChatAdmissionBody). */
function isEmbeddingsAdmissionBody(body: unknown): body is EmbeddingsAdmissionBody {
  return isRecord(body) && typeof body.model === 'string' && (typeof body.input === 'string' || Array.isArray(body.input));
}

/** Prompt plus the most the answer may use: what a tpm window reserves before the call. */
function chatTokens(body: ChatAdmissionBody, promptTokens: number): number {
  const completion = body.max_completion_tokens ?? body.max_tokens ?? 0;
  return promptTokens + completion * (body.n ?? 1);
}

/** Counts a prompt once, when first asked (tpm and the budget reservation both need it). */
function once(count: () => number): () => number {
  let value: number | undefined;
  return () => (value ??= count());
}

function embeddingTokens(input: string | string[]): number {
  if (typeof input === 'string') return countTextTokens(input);
  let total = 0;
  for (const text of input) total += countTextTokens(text);
  return total;
}

function unvalidatedBody(request: FastifyRequest): Error {
  return new Error(`route ${request.routeOptions.url} reached admission with a body its schema should have refused`);
}

/** Where a call may go, for its worst-case cost: the group, its fallbacks and its budget fallback. */
function reachableGroups(request: FastifyRequest, model: string): ModelGroup[] {
  const registry = request.call?.services.registry;
  const group = registry?.resolve(model);
  if (!registry || !group) return [];
  const groups = [group];
  for (const name of [...group.fallbacks, ...(group.budgetFallback ? [group.budgetFallback.group] : [])]) {
    const next = registry.resolve(name);
    if (next && !groups.includes(next)) groups.push(next);
  }
  return groups;
}

function demandOf(url: string, budgets: BudgetsConfig): ((request: FastifyRequest) => Demand) | undefined {
  switch (url) {
    case '/v1/chat/completions':
      return (request) => {
        const body = request.body;
        if (!isChatAdmissionBody(body)) throw unvalidatedBody(request);
        const output = (body.max_completion_tokens ?? body.max_tokens ?? budgets.reserve_output_tokens) * (body.n ?? 1);
        const prompt = once(() => countMessageTokens(body.messages));
        return {
          resource: { kind: 'models', name: body.model },
          tokens: () => chatTokens(body, prompt()),
          reserveNano: () => worstCaseCostNano(reachableGroups(request, body.model), prompt(), output),
        };
      };
    case '/v1/embeddings':
      return (request) => {
        const body = request.body;
        if (!isEmbeddingsAdmissionBody(body)) throw unvalidatedBody(request);
        const input = once(() => embeddingTokens(body.input));
        return {
          resource: { kind: 'models', name: body.model },
          tokens: input,
          reserveNano: () => worstCaseCostNano(reachableGroups(request, body.model), input(), 0),
        };
      };
    default:
      return undefined;
  }
}

/**
 * Admits a rendered prompt call: its messages and output cap reserve tokens and worst-case cost
 * like a chat call's. A prompt whose JSON answer may need one repair reserves that second call
 * too: the same messages plus the first answer and the repair request, and a second answer.
 */
export function admitPrompt(access: AccessControl, request: FastifyRequest, reply: FastifyReply, req: ChatRequest, budgets: BudgetsConfig, mayRepair: boolean): Promise<void> {
  const cap = req.max_completion_tokens ?? req.max_tokens;
  const output = (cap ?? budgets.reserve_output_tokens) * (req.n ?? 1);
  const prompt = once(() => countMessageTokens(req.messages));
  const repairPrompt = () => (mayRepair ? prompt() + output + REPAIR_OVERHEAD_TOKENS : 0);
  const legs = mayRepair ? 2 : 1;
  return access.admit(request, reply, {
    tokens: () => prompt() + repairPrompt() + (cap ?? 0) * legs,
    reserveNano: () => worstCaseCostNano(reachableGroups(request, req.model), prompt() + repairPrompt(), output * legs),
  });
}

/**
 * Admits a chat call whose route translated another API's body (Responses, Messages, legacy
 * completions) into a canonical request: the same model permission, tpm and budget reservation
 * as `/v1/chat/completions`. Such routes are checked only for a current key at preHandler and
 * must call this before any upstream work.
 */
export function admitChat(access: AccessControl, request: FastifyRequest, reply: FastifyReply, req: ChatRequest, budgets: BudgetsConfig): Promise<void> {
  const output = (req.max_completion_tokens ?? req.max_tokens ?? budgets.reserve_output_tokens) * (req.n ?? 1);
  const prompt = once(() => countMessageTokens(req.messages));
  return access.admit(request, reply, {
    resource: { kind: 'models', name: req.model },
    tokens: () => chatTokens(req, prompt()),
    reserveNano: () => worstCaseCostNano(reachableGroups(request, req.model), prompt(), output),
  });
}

function append<T>(existing: T | T[] | undefined, hook: T, first = false): T[] {
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  return first ? [hook, ...list] : [...list, hook];
}

export function registerAccess(app: FastifyInstance, access: AccessControl, ledger: Ledger, budgets: BudgetsConfig): void {
  app.decorateRequest('accessIdentity', null);
  app.decorateRequest('budgetUse', 0);
  ledger.onRecord((record) => access.settle(record));

  const identify: onRequestHookHandler = (request) => access.identify(request);
  const checkCurrent: preHandlerHookHandler = (request, reply) => access.admit(request, reply, { count: false });

  app.addHook('onRoute', (route: RouteOptions) => {
    const admit = admissionFor(route);
    if (!admit) return;
    route.onRequest = append(route.onRequest, identify, true);
    route.preHandler = append(route.preHandler, admit);
  });

  function admissionFor(route: RouteOptions): preHandlerHookHandler | undefined {
    const url = route.url;
    const service = route.config?.access;
    if (service) {
      const demand: Demand = service.service ? { resource: { kind: 'services', name: service.service } } : {};
      return (request, reply) => access.admit(request, reply, demand);
    }
    const isPrompt = url === '/prompts' || url.startsWith('/prompts/');
    if (!url.startsWith('/v1/') && !isPrompt) return undefined;
    const demand = demandOf(url, budgets);
    if (demand) return (request: FastifyRequest, reply: FastifyReply) => access.admit(request, reply, demand(request));
    // A prompt call is counted by its route once the prompt is rendered and its tokens and
    // cost are known (`admitPrompt`); here the key is only checked current.
    return checkCurrent;
  }
}
