/**
 * A call's upstream legs: a non-streamed chat completion, the opening of a stream, and
 * embeddings, each over the group's deployments with retries and fallbacks. Each leg is added
 * to its Call (usage reported or estimated, cost); a failed leg is noted on it and thrown as
 * the client-facing error. Nothing here writes the ledger: the Call settles once.
 */
import type { Deployment, ModelGroup } from '../core/deployment.js';
import type { GatewayError } from '../core/errors.js';
import type { ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse } from '../core/types.js';
import { protocolError } from '../core/upstream-error.js';
import type { ClientClosedError } from './attempt-signal.js';
import type { Call, Leg } from './call.js';
import type { CallTrace } from './call-trace.js';
import { CallStream, openOnce } from './call-stream.js';
import { toClientError } from './client-error.js';
import { estimateTextsTokens, estimateUsage, legOf } from './leg.js';
import { AttemptsExhausted, runAttempts, type AttemptPlan } from './run-attempts.js';

export interface CompletedChat {
  response: ChatResponse;
  leg: Leg;
}

function requestFor(req: ChatRequest, deployment: Deployment): ChatRequest {
  return { ...req, model: deployment.model };
}

function responseText(res: ChatResponse): string {
  let text = '';
  for (const choice of res.choices) {
    text += choice.message.content ?? '';
    for (const call of choice.message.tool_calls ?? []) text += call.function.name + call.function.arguments;
  }
  return text;
}

function noteAnswer(trace: CallTrace, response: ChatResponse): void {
  trace.noteFinishReasons(response.choices.map((choice) => choice.finishReason));
  trace.noteOutput(response);
}

function planFor(call: Call, group: ModelGroup, req: ChatRequest | undefined): AttemptPlan {
  const { registry, balancer } = call.services;
  return {
    group,
    registry,
    balancer,
    client: call.client,
    request: req,
    trace: call.trace,
    onAttemptFailed: (deployment, err, attempt) => {
      const e = err as GatewayError;
      call.log.warn({ attempt, deployment: deployment.id, provider: deployment.provider, kind: (err as { kind?: string }).kind, status: e.status, cause: e.cause }, `upstream attempt failed: ${e.message}`);
    },
  };
}

/**
 * Notes a leg whose every attempt failed on the call and returns the client-facing error. A
 * client that left after an attempt reached the upstream is still billed the prompt it sent
 * (estimated, status 499): the provider charges for it.
 */
async function failLeg(call: Call, req: ChatRequest | undefined, err: unknown): Promise<GatewayError | ClientClosedError> {
  const exhausted = err instanceof AttemptsExhausted ? err : undefined;
  const error = toClientError(exhausted ? exhausted.last : err);
  const deployment = exhausted?.deployment;
  const attempts = exhausted?.attempts ?? 0;
  const sentPrompt = req && deployment && attempts > 0 && call.client.left;
  const billed = sentPrompt ? await legOf(deployment, attempts, undefined, () => estimateUsage(req, ''), deployment.model) : undefined;
  call.addFailure(error, attempts, deployment, billed);
  return error;
}

/** A non-streamed chat leg. Throws the client-facing error. */
export function completeChat(call: Call, group: ModelGroup, req: ChatRequest): Promise<CompletedChat> {
  return call.runLeg(() => runCompletion(call, group, req));
}

async function runCompletion(call: Call, group: ModelGroup, req: ChatRequest): Promise<CompletedChat> {
  call.trace?.noteInput(req.messages);
  let success;
  try {
    success = await runAttempts(planFor(call, group, req), (deployment, signal) => deployment.adapter.chat(requestFor(req, deployment), signal.signal));
  } catch (err) {
    throw await failLeg(call, req, err);
  }
  success.signal.dispose();
  success.span?.end();
  const { deployment, value: response } = success;
  if (call.trace) noteAnswer(call.trace, response);
  const leg = await legOf(deployment, success.attempts, response.usage, () => estimateUsage(req, responseText(response)), response.model || deployment.model);
  call.services.balancer.finished({ deployment, ok: true, latencyMs: Date.now() - success.startedAt, tokens: leg.usage.promptTokens + leg.usage.completionTokens });
  call.warn(deployment.adapter.warnings?.(req));
  call.addLeg(leg);
  return { response, leg };
}

/**
 * Opens a streamed chat leg, failing over until a first content chunk arrives; an upstream
 * that ends before any content is a protocol failure like a 5xx. Throws the client-facing
 * error; the returned stream settles the call itself when driven.
 */
export function openChatStream(call: Call, group: ModelGroup, req: ChatRequest): Promise<CallStream> {
  return call.runLeg(() => openStreamLeg(call, group, req));
}

async function openStreamLeg(call: Call, group: ModelGroup, req: ChatRequest): Promise<CallStream> {
  call.trace?.noteInput(req.messages);
  let success;
  try {
    success = await runAttempts(planFor(call, group, req), async (deployment, signal) => {
      const opened = await openOnce(deployment, requestFor(req, deployment), signal);
      if (!opened.hasContent) throw protocolError(deployment.provider, `${deployment.provider} ended the stream before any answer`);
      return opened;
    });
  } catch (err) {
    throw await failLeg(call, req, err);
  }
  call.warn(success.deployment.adapter.warnings?.(req));
  return new CallStream(call, req, success);
}

/** An embeddings leg. Throws the client-facing error. */
export function embed(call: Call, group: ModelGroup, req: EmbeddingRequest, unsupported: (deployment: Deployment) => GatewayError): Promise<EmbeddingResponse & { leg: Leg }> {
  return call.runLeg(() => embedLeg(call, group, req, unsupported));
}

async function embedLeg(call: Call, group: ModelGroup, req: EmbeddingRequest, unsupported: (deployment: Deployment) => GatewayError): Promise<EmbeddingResponse & { leg: Leg }> {
  let success;
  try {
    success = await runAttempts(planFor(call, group, undefined), async (deployment, signal) => {
      if (!deployment.adapter.embed) throw unsupported(deployment);
      return deployment.adapter.embed({ ...req, model: deployment.model }, signal.signal);
    });
  } catch (err) {
    throw await failLeg(call, undefined, err);
  }
  success.signal.dispose();
  success.span?.end();
  const { deployment, value } = success;
  call.services.balancer.finished({ deployment, ok: true, latencyMs: Date.now() - success.startedAt });
  const inputs = typeof req.input === 'string' ? [req.input] : req.input;
  const reported = value.usage ? { promptTokens: value.usage.promptTokens, completionTokens: 0, cachedTokens: 0 } : undefined;
  const estimate = async () => ({ promptTokens: await estimateTextsTokens(inputs), completionTokens: 0, cachedTokens: 0 });
  const leg = await legOf(deployment, success.attempts, reported, estimate, value.model || deployment.model);
  call.addLeg(leg);
  return { ...value, leg };
}
