/**
 * Span attributes of a call and of its attempts: the OpenTelemetry GenAI semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/), plus the gateway's own
 * under `konnect.*`. The GenAI names are written out here rather than imported from the
 * semantic-conventions package's "incubating" entry: they are still in Development there, and
 * the package asks users to copy unstable names instead of depending on that entry.
 *
 * Pure: a record or a deployment in, a plain attribute object out.
 */
import type { Deployment } from '../core/deployment.js';
import { GatewayError } from '../core/errors.js';
import type { ProviderKind } from '../core/types.js';
import { UpstreamError } from '../core/upstream-error.js';
import type { LedgerRecord } from '../usage/ledger-record.js';

export const GEN_AI = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
} as const;

/** Stable OpenTelemetry names (general, HTTP), the same strings as @opentelemetry/semantic-conventions' ATTR_* constants. */
export const STABLE = {
  serverAddress: 'server.address',
  serverPort: 'server.port',
  httpStatus: 'http.response.status_code',
  errorType: 'error.type',
} as const;

export type Attributes = Record<string, string | number | boolean | string[]>;

export type Operation = 'chat' | 'embeddings';

export function operationOf(route: string): Operation {
  return route === 'embeddings' ? 'embeddings' : 'chat';
}

/**
 * `gen_ai.provider.name` takes the conventions' well-known values; an OpenAI-compatible server
 * is no well-known system, so it goes by its configured name (the conventions allow a custom
 * value), as does the test provider.
 */
const WELL_KNOWN: Partial<Record<ProviderKind, string>> = { openai: 'openai', anthropic: 'anthropic', gemini: 'gcp.gemini' };

export function providerNameOf(deployment: Deployment): string {
  return WELL_KNOWN[deployment.adapter.kind] ?? deployment.provider;
}

/** What the call's ledger record says, as attributes of the call's span. */
export function callAttributes(record: LedgerRecord, deployment: Deployment | undefined): Attributes {
  const attributes: Attributes = {
    [GEN_AI.operation]: operationOf(record.route),
    [GEN_AI.inputTokens]: record.prompt_tokens,
    [GEN_AI.outputTokens]: record.completion_tokens,
    [STABLE.httpStatus]: record.status,
    'konnect.call_id': record.id,
    'konnect.route': record.route,
    'konnect.attempts': record.attempts,
    'konnect.cost_usd': record.cost_nano_usd / 1e9,
    'konnect.price_known': record.price_known,
    'konnect.usage_source': record.usage_source,
    'konnect.cache_hit': record.cache_hit,
  };
  if (record.model !== null) attributes[GEN_AI.requestModel] = record.model;
  if (record.upstream_model !== null) attributes[GEN_AI.responseModel] = record.upstream_model;
  if (deployment) attributes[GEN_AI.provider] = providerNameOf(deployment);
  else if (record.provider !== null) attributes[GEN_AI.provider] = record.provider;
  if (record.provider !== null) attributes['konnect.provider'] = record.provider;
  if (record.cached_tokens > 0) attributes[GEN_AI.cacheReadTokens] = record.cached_tokens;
  if (record.cache_status) attributes['konnect.cache_status'] = record.cache_status;
  if (record.saved_cost_nano_usd !== undefined) attributes['konnect.saved_cost_usd'] = record.saved_cost_nano_usd / 1e9;
  if (record.ttft_ms !== null) attributes['konnect.ttft_ms'] = record.ttft_ms;
  if (record.team !== null) attributes['konnect.team'] = record.team;
  if (record.key_id !== null) attributes['konnect.key_id'] = record.key_id;
  if (record.guardrails) attributes['konnect.guardrails'] = record.guardrails;
  if (record.budget) attributes['konnect.budget'] = record.budget;
  if (record.error_code) attributes[STABLE.errorType] = record.error_code;
  return attributes;
}

/** Where an attempt goes, known when it starts. */
export function attemptAttributes(deployment: Deployment, operation: Operation, attempt: number, host: { address: string; port?: number } | undefined): Attributes {
  const attributes: Attributes = {
    [GEN_AI.operation]: operation,
    [GEN_AI.provider]: providerNameOf(deployment),
    [GEN_AI.requestModel]: deployment.model,
    'konnect.provider': deployment.provider,
    'konnect.deployment': deployment.id,
    'konnect.attempt': attempt,
  };
  if (host) {
    attributes[STABLE.serverAddress] = host.address;
    if (host.port !== undefined) attributes[STABLE.serverPort] = host.port;
  }
  return attributes;
}

/**
 * `error.type` and the HTTP status of a failed attempt. The HTTP conventions name an HTTP
 * failure by its status code; other upstream failures by their kind (`timeout`, `network`,
 * `protocol`, `aborted`); the gateway's own refusals by their error code.
 */
export function attemptFailure(err: unknown): { errorType: string; status?: number; message: string } {
  if (err instanceof UpstreamError) {
    return err.kind === 'http' && err.status !== undefined
      ? { errorType: String(err.status), status: err.status, message: err.message }
      : { errorType: err.kind, message: err.message };
  }
  if (err instanceof GatewayError) return { errorType: err.code, message: err.message };
  return { errorType: err instanceof Error ? err.name : '_OTHER', message: err instanceof Error ? err.message : String(err) };
}
