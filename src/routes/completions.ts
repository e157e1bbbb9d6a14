/**
 * `POST /v1/completions`, OpenAI's legacy text completion, served on chat models: each prompt
 * becomes one user message, and the answer comes back as `text_completion` (src/http/completions-format.ts).
 * It runs the same flow as `/v1/chat/completions` (serveChat): limits, budgets, guardrails,
 * cache, balancing and the ledger, under ledger route `completions`.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { admitChat } from '../access/register-access.js';
import { GatewayError } from '../core/errors.js';
import type { ChatRequest } from '../core/types.js';
import type { ChatFormat } from '../http/chat-format.js';
import { textCompletionFormat, toTextCompletion, type PromptAnswer } from '../http/completions-format.js';
import { nanoToUsd } from '../usage/pricing.js';
import { callOf } from './call-of.js';
import { completionsBodySchema, MAX_CHOICES, type CompletionsBody } from './completions-schema.js';
import { serveChat } from './serve-chat.js';

/** OpenAI's default for this endpoint when `max_tokens` is absent: clients written for it expect a short answer. */
const LEGACY_MAX_TOKENS = 16;

function refuse(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', message, { param });
}

/**
 * The prompts as texts. Token ids (integers, or lists of them) are refused: they are ids in one
 * OpenAI tokenizer, and the models behind the gateway read text.
 */
function promptsOf(prompt: string | unknown[]): string[] {
  if (typeof prompt === 'string') return [prompt];
  return prompt.map((item, i) => {
    if (typeof item === 'string') {
      if (item.length === 0) throw refuse(`prompt[${i}]`, `'prompt[${i}]' must NOT have fewer than 1 characters`);
      return item;
    }
    if (typeof item === 'number' || Array.isArray(item)) {
      throw refuse('prompt', "token-id prompts are not supported: the models behind this gateway read text, so send 'prompt' as a string or an array of strings");
    }
    throw refuse(`prompt[${i}]`, `'prompt[${i}]' must be of type string`);
  });
}

/** Fields a chat model cannot honour: refused by name, so a client never gets less than it asked for without knowing. */
function refuseUnsupported(body: CompletionsBody, prompts: number): void {
  if (body.echo === true) throw refuse('echo', "'echo' is not supported: completions are served by chat models, which do not return the prompt");
  if (body.suffix) throw refuse('suffix', "'suffix' is not supported: completions are served by chat models, which do not insert text before a suffix");
  if (body.logprobs) throw refuse('logprobs', "'logprobs' is not supported: the gateway returns no token log probabilities on completions");
  if (body.best_of != null && body.best_of > 1) throw refuse('best_of', "'best_of' above 1 is not supported: ask for several choices with 'n' instead");
  if (body.logit_bias && Object.keys(body.logit_bias).length > 0) throw refuse('logit_bias', "'logit_bias' is not supported: token ids differ between the models behind this gateway");
  if (prompts > 1 && body.stream === true) {
    throw refuse('prompt', "streaming takes one prompt: send 'prompt' as a string (or an array of one), or several prompts without 'stream'");
  }
  const n = body.n ?? 1;
  if (prompts * n > MAX_CHOICES) throw refuse('n', `prompts × 'n' may be at most ${MAX_CHOICES} choices (asked: ${prompts} × ${n})`);
}

/** One prompt as a chat request; sent nulls mean "not set", as on chat. */
function toChatRequest(body: CompletionsBody, prompt: string): ChatRequest {
  return {
    model: body.model,
    messages: [{ role: 'user', content: prompt }],
    max_tokens: body.max_tokens ?? LEGACY_MAX_TOKENS,
    ...(body.temperature != null && { temperature: body.temperature }),
    ...(body.top_p != null && { top_p: body.top_p }),
    ...(body.n != null && { n: body.n }),
    ...(body.stop != null && { stop: body.stop }),
    ...(body.presence_penalty != null && { presence_penalty: body.presence_penalty }),
    ...(body.frequency_penalty != null && { frequency_penalty: body.frequency_penalty }),
    ...(body.seed != null && { seed: body.seed }),
    ...(body.user != null && { user: body.user }),
    ...(body.stream === true && { stream: true }),
  };
}

/** Reserves what every prompt may use at once: their messages, and `max_tokens` for each of their choices. */
function admissionRequest(requests: readonly ChatRequest[]): ChatRequest {
  const [first] = requests;
  if (!first) throw new Error('a completion has at least one prompt');
  return { ...first, messages: requests.flatMap((req) => req.messages), n: (first.n ?? 1) * requests.length };
}

/** A format that keeps the answer instead of rendering it: prompts answered side by side are rendered once, together. */
function keepAnswer(answers: PromptAnswer[], index: number): ChatFormat {
  return {
    renderResponse: (_call, response, usage) => {
      answers[index] = { response, usage };
      return undefined;
    },
    streamEncoder: () => {
      throw new Error('several prompts are never streamed');
    },
  };
}

/**
 * Several prompts: each is its own pass through the flow on the same call, side by side. All
 * are awaited before any error is thrown, so every leg that ran is on the call (and the ledger)
 * before it settles. The headers then speak for the whole call.
 */
async function serveSeveral(request: FastifyRequest, reply: FastifyReply, requests: readonly ChatRequest[], choicesPerPrompt: number): Promise<unknown> {
  const call = callOf(request);
  const answers: PromptAnswer[] = [];
  const outcomes = await Promise.allSettled(requests.map((req, i) => serveChat(request, reply, req, keepAnswer(answers, i))));
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  reply.header('x-gateway-attempts', String(call.attempts));
  reply.header('x-gateway-cost-usd', nanoToUsd(call.costNanoUsd).toFixed(9));
  return toTextCompletion(`cmpl-${call.id}`, answers, choicesPerPrompt);
}

export function registerCompletions(app: FastifyInstance): void {
  // Typed by the schema: `request.body` is its Static, so the schema is the body's one source.
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  routes.post('/v1/completions', { schema: { body: completionsBodySchema }, config: { call: { route: 'completions' } } }, async (request, reply) => {
    const body = request.body;
    const prompts = promptsOf(body.prompt);
    refuseUnsupported(body, prompts.length);
    const requests = prompts.map((prompt) => toChatRequest(body, prompt));
    const { gateway } = app;
    // This route is known to the access stage only as a `/v1/*` listing: the call is counted here, once its prompts are text.
    await admitChat(gateway.access, request, reply, admissionRequest(requests), gateway.config.budgets);
    const [only] = requests;
    if (only && requests.length === 1) return serveChat(request, reply, only, textCompletionFormat(body.stream_options?.include_usage === true));
    return serveSeveral(request, reply, requests, body.n ?? 1);
  });
}
