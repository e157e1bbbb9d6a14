/**
 * A chat call from resolved model group to answer: attempts over deployments, usage (reported
 * or estimated), cost, and the ledger record. Routes (chat completions, prompt APIs) only
 * translate HTTP in and out.
 */
import { GatewayError, isGatewayError } from '../core/errors.js';
import type { ChatChunk, ChatRequest, ChatResponse, Usage } from '../core/types.js';
import { countMessageTokens, countTextTokens } from '../usage/count-tokens.js';
import { blankRecord, type LedgerRecord, type UsageSource } from '../usage/ledger.js';
import { costNanoUsd } from '../usage/pricing.js';
import type { AttemptSignal } from './attempt-signal.js';
import { ClientClosedError } from './attempt-signal.js';
import type { CallContext } from './call-context.js';
import type { Deployment, ModelGroup } from './model-registry.js';
import { AttemptsExhausted, runAttempts } from './run-attempts.js';
import { toClientError } from './client-error.js';

/** What a finished call tells the client and the ledger. */
export interface CallOutcome {
  deployment: Deployment;
  attempts: number;
  usage: Usage;
  usageSource: UsageSource;
  costNanoUsd: number;
}

export interface CompletedChat extends CallOutcome {
  response: ChatResponse;
}

/** A failed call: the client-facing error plus how far it got. */
export class CallFailed extends Error {
  constructor(
    readonly error: GatewayError | ClientClosedError,
    readonly attempts: number,
    readonly deployment: Deployment | undefined,
  ) {
    super(error.message);
  }
}

/** Client-facing status of a call that ended with `err` (499, nginx's "client closed", when the caller left). */
export function statusOf(err: GatewayError | ClientClosedError): number {
  return isGatewayError(err) ? err.status : 499;
}

export function asClientError(err: unknown): GatewayError | ClientClosedError {
  return toClientError(err);
}

function requestFor(req: ChatRequest, deployment: Deployment): ChatRequest {
  return { ...req, model: deployment.model };
}

function estimateUsage(req: ChatRequest, completionText: string): Usage {
  return { promptTokens: countMessageTokens(req.messages), completionTokens: countTextTokens(completionText), cachedTokens: 0 };
}

function responseText(res: ChatResponse): string {
  let text = '';
  for (const choice of res.choices) {
    text += choice.message.content ?? '';
    for (const call of choice.message.tool_calls ?? []) text += call.function.name + call.function.arguments;
  }
  return text;
}

export function writeLedger(ctx: CallContext, model: string | null, fields: Partial<LedgerRecord> & Pick<LedgerRecord, 'status'>): void {
  const origin = { request_id: ctx.requestId, time: ctx.startedAt, key_id: ctx.caller.keyId, team: ctx.caller.team, route: ctx.route, tags: ctx.tags, status: fields.status };
  ctx.recorded = true;
  const record = blankRecord(origin);
  record.model = model;
  if (ctx.notes) Object.assign(record, ctx.notes);
  ctx.services.ledger.record(Object.assign(record, fields));
}

function logAttemptFailure(ctx: CallContext) {
  return (deployment: Deployment, err: unknown, attempt: number) => {
    const e = err as GatewayError;
    ctx.log.warn(
      { attempt, deployment: deployment.id, provider: deployment.provider, code: e.code, status: e.status, cause: e.cause },
      `upstream attempt failed: ${e.message}`,
    );
  };
}

/** Records a call every attempt of which failed, and turns it into the client-facing failure. */
export function failCall(ctx: CallContext, group: ModelGroup, err: unknown): CallFailed {
  const exhausted = err instanceof AttemptsExhausted ? err : undefined;
  const clientError = asClientError(exhausted ? exhausted.last : err);
  const deployment = exhausted?.deployment;
  writeLedger(ctx, group.name, {
    status: statusOf(clientError),
    provider: deployment?.provider ?? null,
    upstream_model: deployment?.model ?? null,
    attempts: exhausted?.attempts ?? 0,
    error_code: isGatewayError(clientError) ? clientError.code : 'client_closed',
  });
  return new CallFailed(clientError, exhausted?.attempts ?? 0, deployment);
}

function outcome(deployment: Deployment, attempts: number, reported: Usage | undefined, estimate: () => Usage): CallOutcome {
  const usage = reported ?? estimate();
  return {
    deployment,
    attempts,
    usage,
    usageSource: reported ? 'reported' : 'estimated',
    costNanoUsd: costNanoUsd(usage, deployment.pricing.price),
  };
}

/** A non-streamed chat call. Throws CallFailed. */
export async function completeChat(ctx: CallContext, group: ModelGroup, req: ChatRequest): Promise<CompletedChat> {
  let success;
  try {
    success = await runAttempts(
      { group, registry: ctx.services.registry, balancer: ctx.services.balancer, clientSignal: ctx.clientSignal, request: req, onAttemptFailed: logAttemptFailure(ctx) },
      (deployment, signal) => deployment.adapter.chat(requestFor(req, deployment), signal.signal),
    );
  } catch (err) {
    throw failCall(ctx, group, err);
  }
  success.signal.dispose();
  const latencyMs = Date.now() - success.startedAt;
  const response = success.value;
  const result = outcome(success.deployment, success.attempts, response.usage, () => estimateUsage(req, responseText(response)));
  ctx.services.balancer.finished({ deployment: success.deployment, ok: true, latencyMs, tokens: result.usage.promptTokens + result.usage.completionTokens });
  writeLedger(ctx, group.name, {
    status: 200,
    provider: success.deployment.provider,
    upstream_model: response.model || success.deployment.model,
    prompt_tokens: result.usage.promptTokens,
    completion_tokens: result.usage.completionTokens,
    cached_tokens: result.usage.cachedTokens,
    usage_source: result.usageSource,
    cost_nano_usd: result.costNanoUsd,
    price_known: success.deployment.pricing.known,
    attempts: success.attempts,
  });
  return { ...result, response };
}

/**
 * A stream that has produced its first chunk. Failover happens only before that point: once
 * the caller writes a byte, a failure ends the stream with an error event instead.
 */
export interface OpenedStream {
  deployment: Deployment;
  group: ModelGroup;
  attempts: number;
  /** Chunks read while opening (meta and the first content chunk), to be written first. */
  buffered: ChatChunk[];
  /** The rest of the stream; each chunk resets the attempt's idle timeout. */
  rest: AsyncIterator<ChatChunk>;
  signal: AttemptSignal;
  startedAt: number;
  /** ms from the attempt's start to its first content chunk. */
  ttftMs: number;
  /** Records the call: usage as reported, or estimated from what was produced; returns the outcome. */
  finish(result: { status: number; errorCode?: string; reported?: Usage; producedText: string; upstreamModel?: string }): CallOutcome;
}

async function openOnce(deployment: Deployment, req: ChatRequest, signal: AttemptSignal) {
  const iterator = deployment.adapter.stream(requestFor(req, deployment), signal.signal)[Symbol.asyncIterator]();
  const buffered: ChatChunk[] = [];
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    buffered.push(next.value);
    if (next.value.type !== 'meta') break;
  }
  return { iterator, buffered };
}

/** Opens a streamed chat call, failing over until a first chunk arrives. Throws CallFailed. */
export async function openChatStream(ctx: CallContext, group: ModelGroup, req: ChatRequest): Promise<OpenedStream> {
  let success;
  try {
    success = await runAttempts(
      { group, registry: ctx.services.registry, balancer: ctx.services.balancer, clientSignal: ctx.clientSignal, request: req, onAttemptFailed: logAttemptFailure(ctx) },
      (deployment, signal) => openOnce(deployment, req, signal),
    );
  } catch (err) {
    throw failCall(ctx, group, err);
  }
  const { deployment, attempts, signal, startedAt } = success;
  const ttftMs = Date.now() - startedAt;
  let finished = false;
  return {
    deployment,
    group: success.group,
    attempts,
    buffered: success.value.buffered,
    rest: success.value.iterator,
    signal,
    startedAt,
    ttftMs,
    finish(result) {
      const done = outcome(deployment, attempts, result.reported, () => estimateUsage(req, result.producedText));
      if (finished) return done;
      finished = true;
      signal.dispose();
      ctx.services.balancer.finished({
        deployment,
        ok: result.status < 500,
        latencyMs: Date.now() - startedAt,
        ttftMs,
        tokens: done.usage.promptTokens + done.usage.completionTokens,
      });
      writeLedger(ctx, group.name, {
        status: result.status,
        provider: deployment.provider,
        upstream_model: result.upstreamModel || deployment.model,
        prompt_tokens: done.usage.promptTokens,
        completion_tokens: done.usage.completionTokens,
        cached_tokens: done.usage.cachedTokens,
        usage_source: done.usageSource,
        cost_nano_usd: done.costNanoUsd,
        price_known: deployment.pricing.known,
        ttft_ms: startedAt - ctx.startedAt + ttftMs,
        attempts,
        error_code: result.errorCode,
      });
      return done;
    },
  };
}
