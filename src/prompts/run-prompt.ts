/**
 * One prompt call: renders the messages, runs them through the chat pipeline (balancing,
 * retries, ledger) and, for JSON output, checks the answer and asks once for a repair.
 */
import { GatewayError } from '../core/errors.js';
import type { ChatMessage, ChatRequest, ChatResponse, Usage } from '../core/types.js';
import type { CallContext } from '../pipeline/call-context.js';
import { CallFailed, completeChat, type CompletedChat } from '../pipeline/chat-call.js';
import type { Deployment, ModelGroup } from '../core/deployment.js';
import { checkJsonAnswer, jsonResponseFormat, repairMessages } from './json-output.js';
import type { Prompt } from './prompt-types.js';
import { renderTemplate } from './template.js';

/** A prompt's answer with the totals of every upstream call it took (two with a repair). */
export interface PromptAnswer {
  /** The text, or the parsed and validated JSON value. */
  output: unknown;
  usage: Usage;
  costNanoUsd: number;
  attempts: number;
  deployment: Deployment;
  /** The provider name of `deployment`. */
  provider: string;
  upstreamModel: string;
  /** The answer the output was read from (the repaired one after a repair). */
  response: ChatResponse;
}

export function renderMessages(prompt: Prompt, values: unknown): ChatMessage[] {
  return prompt.templates.map(({ role, template }) => ({ role, content: renderTemplate(template, values) }));
}

/** The chat request a prompt call sends: rendered messages, the file's params, JSON format when asked. */
export function buildPromptRequest(prompt: Prompt, values: unknown): ChatRequest {
  const req: ChatRequest = { ...prompt.spec.params, model: prompt.spec.model, messages: renderMessages(prompt, values) };
  if (prompt.spec.output.type === 'json') req.response_format = jsonResponseFormat(prompt.spec);
  return req;
}

function answerText(done: CompletedChat): string | null {
  return done.response.choices[0]?.message.content ?? null;
}

function addUsage(a: Usage, b: Usage): Usage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
  };
}

/** Runs a non-streamed prompt call. Throws CallFailed (attempt counts included) on any failure. */
export async function runPrompt(ctx: CallContext, group: ModelGroup, prompt: Prompt, req: ChatRequest): Promise<PromptAnswer> {
  const first = await completeChat(ctx, group, req);
  const totals = (done: CompletedChat, output: unknown, before?: CompletedChat): PromptAnswer => ({
    output,
    usage: before ? addUsage(before.usage, done.usage) : done.usage,
    costNanoUsd: done.costNanoUsd + (before?.costNanoUsd ?? 0),
    attempts: done.attempts + (before?.attempts ?? 0),
    deployment: done.deployment,
    provider: done.deployment.provider,
    upstreamModel: done.response.model || done.deployment.model,
    response: done.response,
  });
  const validate = prompt.validateOutput;
  if (!validate) return totals(first, answerText(first) ?? '');

  const checked = checkJsonAnswer(answerText(first), validate);
  if (checked.ok) return totals(first, checked.value);
  ctx.log.info({ prompt: prompt.spec.name, reason: checked.reason }, 'prompt answer failed its output schema; asking for a repair');

  let second: CompletedChat;
  try {
    second = await completeChat(ctx, group, { ...req, messages: repairMessages(req.messages, answerText(first), checked.reason) });
  } catch (err) {
    if (err instanceof CallFailed) throw new CallFailed(err.error, first.attempts + err.attempts, err.deployment);
    throw err;
  }
  const repaired = checkJsonAnswer(answerText(second), validate);
  if (repaired.ok) return totals(second, repaired.value, first);
  const error = new GatewayError(
    'upstream_invalid_response',
    `prompt '${prompt.spec.name}': the model's answer was not valid after one repair attempt: ${repaired.reason}`,
  );
  throw new CallFailed(error, first.attempts + second.attempts, second.deployment);
}
