/**
 * Anthropic's Messages API through `@anthropic-ai/sdk` 1.x, which speaks API version
 * 2026-10-21. The SDK stays in this file and errors.ts: the mapping modules speak the wire
 * format, and the adapter casts at the SDK boundary. https://docs.anthropic.com/en/api/messages
 */
import Anthropic from '@anthropic-ai/sdk';
import type { ProviderAdapter } from '../../src/core/adapter.js';
import type { AnthropicProviderConfig } from '../../src/config/types.js';
import { createUndiciFetch, refusalOf } from '../http-transport.js';
import { settleAnthropicError } from './errors.js';
import { fromAnthropicResponse } from './from-response.js';
import { mapAnthropicStream } from './map-stream.js';
import { toAnthropicRequest } from './to-request.js';
import { anthropicWarnings } from './warnings.js';
import type { AnthropicMessage, AnthropicStreamEvent } from './wire-types.js';

export function createAnthropicAdapter(name: string, config: AnthropicProviderConfig): ProviderAdapter {
  const transport = createUndiciFetch({ connections: config.connections, provider: name });
  // The transport refused to send it (its pool is full): the SDK wrapped that as a connection error.
  const settle = (err: unknown, signal: AbortSignal) => (signal.aborted ? undefined : refusalOf(err)) ?? settleAnthropicError(name, err, signal);
  const client = new Anthropic({
    fetch: transport.fetch,
    apiKey: config.api_key ?? '',
    baseURL: config.base_url || undefined,
    defaultHeaders: config.headers,
    maxRetries: 0, // the gateway's balancer owns retries
    // Per-attempt timeouts come from the gateway's abort signal; a set timeout also stops the
    // SDK refusing large max_tokens without streaming.
    timeout: 10 * 60 * 1000,
  });
  type CreateBody = Anthropic.Messages.MessageCreateParamsNonStreaming;

  return {
    kind: 'anthropic',
    name,
    close: transport.close,
    warnings: anthropicWarnings,
    async chat(req, signal) {
      try {
        const body = toAnthropicRequest(req) as unknown as CreateBody;
        const res = await client.messages.create(body, { signal });
        return fromAnthropicResponse(res as unknown as AnthropicMessage);
      } catch (err) {
        throw settle(err, signal);
      }
    },
    async *stream(req, signal) {
      try {
        const body = toAnthropicRequest(req) as unknown as CreateBody;
        const events = await client.messages.create({ ...body, stream: true }, { signal });
        yield* mapAnthropicStream(events as AsyncIterable<AnthropicStreamEvent>, name);
      } catch (err) {
        // The SDK ends its stream quietly on abort; settleAdapterError turns that into signal.reason.
        throw settle(err, signal);
      }
    },
  };
}
