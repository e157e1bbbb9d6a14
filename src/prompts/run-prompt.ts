/**
 * One prompt call: renders the messages, runs them through the chat pipeline (balancing,
 * retries, ledger) and, for JSON output, checks the answer and asks once for a repair.
 */
import { GatewayError } from '../core/errors.js';
import type { ChatMessage, ChatRequest, ChatResponse, Usage } from '../core/types.js';
import type { Call } from '../pipeline/call.js';
import { completeChat, type CompletedChat } from '../pipeline/run-chat.js';
import type { Deployment, ModelGroup } from '../core/deployment.js';
import { checkJsonAnswer, jsonResponseFormat, repairMessages } from './json-output.js';
import type { Prompt } from './prompt-types.js';
import { renderTemplate } from './template.js';

/** A prompt's answer with the totals of every upstream leg it took (two with a repair); the call records both in one record. */
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

/** Runs a non-streamed prompt call. Throws the client-facing error on any failure. */
export async function runPrompt(call: Call, group: ModelGroup, prompt: Prompt, req: ChatRequest): Promise<PromptAnswer> {
  const first = await completeChat(call, group, req);
  const totals = (done: CompletedChat, output: unknown, before?: CompletedChat): PromptAnswer => ({
    output,
    usage: before ? addUsage(before.leg.usage, done.leg.usage) : done.leg.usage,
    costNanoUsd: done.leg.costNanoUsd + (before?.leg.costNanoUsd ?? 0),
    attempts: done.leg.attempts + (before?.leg.attempts ?? 0),
    deployment: done.leg.deployment,
    provider: done.leg.deployment.provider,
    upstreamModel: done.leg.upstreamModel,
    response: done.response,
  });
  const validate = prompt.validateOutput;
  if (!validate) return totals(first, answerText(first) ?? '');

  const checked = checkJsonAnswer(answerText(first), validate);
  if (checked.ok) return totals(first, checked.value);
  call.log.info({ prompt: prompt.spec.name, reason: checked.reason }, 'prompt answer failed its output schema; asking for a repair');

  const second = await completeChat(call, group, { ...req, messages: repairMessages(req.messages, answerText(first), checked.reason) });
  const repaired = checkJsonAnswer(answerText(second), validate);
  if (repaired.ok) return totals(second, repaired.value, first);
  throw new GatewayError(
    'upstream_invalid_response',
    `prompt '${prompt.spec.name}': the model's answer was not valid after one repair attempt: ${repaired.reason}`,
  );
}
