/**
 * Anthropic's Messages API over every provider: `POST /v1/messages` (JSON or SSE) and
 * `POST /v1/messages/count_tokens`. The body is translated to a canonical chat request and runs
 * the same flow as chat completions (serveChat); errors come back in Anthropic's shape, so the
 * Anthropic SDKs and the agents built on them (Claude Code) raise their own typed errors.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { admitChat } from '../access/register-access.js';
import type { ToolDefinition } from '../core/types.js';
import { anthropicMessagesFormat } from '../http/anthropic-format.js';
import { countMessageTokens, countTextTokens } from '../usage/count-tokens.js';
import { toMessagesChatRequest, toPromptRequest } from './messages-request.js';
import { countTokensBodySchema, messagesBodySchema } from './messages-schema.js';
import { modelNotServed } from './model-not-served.js';
import { serveChat } from './serve-chat.js';

/** Tool definitions as the model reads them: name, description and schema, counted as JSON text. */
function toolTokens(tools: readonly ToolDefinition[] | undefined): number {
  if (!tools || tools.length === 0) return 0;
  return countTextTokens(JSON.stringify(tools.map((tool) => tool.function)));
}

export function registerMessages(app: FastifyInstance): void {
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();

  routes.post(
    '/v1/messages',
    { schema: { body: messagesBodySchema }, config: { call: { route: 'messages' }, errorFormat: 'anthropic' } },
    async (request, reply) => {
      const req = toMessagesChatRequest(request.body);
      // Only the key was checked at preHandler: model permission, rpm/tpm and budget are counted here.
      await admitChat(app.gateway.access, request, reply, req, app.gateway.config.budgets);
      return serveChat(request, reply, req, anthropicMessagesFormat);
    },
  );

  /**
   * Counted by the gateway's own tokenizer, not the provider's: the same count admission and
   * budgets use, free, and the same whichever provider the model resolves to. A key is still
   * needed where keys are required; the model must be one the gateway serves.
   */
  routes.post('/v1/messages/count_tokens', { schema: { body: countTokensBodySchema }, config: { errorFormat: 'anthropic' } }, async (request) => {
    const req = toPromptRequest(request.body);
    const { registry } = app.gateway;
    if (!registry.resolve(req.model)) throw await modelNotServed(request, registry, req.model);
    return { input_tokens: countMessageTokens(req.messages) + toolTokens(req.tools) };
  });
}
