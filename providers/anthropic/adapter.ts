/**
 * Anthropic's Messages API spoken directly over the shared wire client (undici, one pool per
 * provider): no SDK on the hot path. The request is what `@anthropic-ai/sdk` 1.x sends, with the
 * key in `x-api-key` as the API documents it. https://docs.anthropic.com/en/api/messages
 */
import type { ProviderAdapter } from '../../src/core/adapter.js';
import type { AnthropicProviderConfig } from '../../src/config/types.js';
import { protocolError } from '../../src/core/upstream-error.js';
import { createWireClient, wireOptionsOf } from '../shared/wire-client.js';
import { settleAdapterError } from '../upstream-errors.js';
import { fromAnthropicResponse } from './from-response.js';
import { anthropicStreamEvents, mapAnthropicStream } from './map-stream.js';
import { toAnthropicRequest } from './to-request.js';
import { anthropicWarnings } from './warnings.js';
import type { AnthropicMessage } from './wire-types.js';
import type { CallSignal } from '../../src/core/call-signal.js';

/**
 * The API version `@anthropic-ai/sdk` 1.12 sends (`anthropic-version` in its client's
 * `buildHeaders`). The request mapping follows it: it leaves out the sampling fields this
 * version rejects. Change the two together.
 */
export const ANTHROPIC_VERSION = '2026-10-21';

export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/** The headers of every call, built once; configured headers win, names case-insensitive, as the SDK's `defaultHeaders` did. */
function headersFor(config: AnthropicProviderConfig, accept: string): Record<string, string> {
  const headers: Record<string, string> = {
    accept,
    'anthropic-version': ANTHROPIC_VERSION,
    // The header the API documents for keys (https://docs.anthropic.com/en/api/overview), whatever
    // a given SDK version sends: proxies and compatible servers in between look for it.
    'x-api-key': config.api_key ?? '',
  };
  for (const [name, value] of Object.entries(config.headers ?? {})) headers[name.toLowerCase()] = value;
  headers['content-type'] = 'application/json';
  return headers;
}

/**
 * The last word on an error in a call. The wire client settles its own failures (statuses,
 * network, gateway_busy); a TypeError left here came from mapping an answer that does not have
 * the documented shape (a null content block, a message_start without its message): the
 * upstream's failure, not an unreachable upstream.
 */
function settle(provider: string, err: unknown, signal: CallSignal): unknown {
  const mapped = err instanceof TypeError ? protocolError(provider, `${provider} sent an answer the gateway could not map`, err) : err;
  return settleAdapterError(provider, mapped, signal);
}

export function createAnthropicAdapter(name: string, config: AnthropicProviderConfig): ProviderAdapter {
  const wire = createWireClient(wireOptionsOf(name, config));
  const url = `${(config.base_url || DEFAULT_ANTHROPIC_BASE_URL).replace(/\/+$/, '')}/v1/messages`;
  const jsonHeaders = headersFor(config, 'application/json');
  const sseHeaders = headersFor(config, 'text/event-stream');

  return {
    kind: 'anthropic',
    name,
    close: () => wire.close(),
    warnings: anthropicWarnings,
    async chat(req, signal) {
      try {
        const body = JSON.stringify(toAnthropicRequest(req));
        const answer = await wire.postJson({ url, headers: jsonHeaders, body, signal });
        return fromAnthropicResponse(answer as AnthropicMessage, Date.now(), name);
      } catch (err) {
        throw settle(name, err, signal);
      }
    },
    async *stream(req, signal) {
      try {
        const body = JSON.stringify({ ...toAnthropicRequest(req), stream: true });
        const frames = wire.postSse({ url, headers: sseHeaders, body, signal });
        // The mapping works event by event (its meta is held back until content): a batch of one each.
        for await (const chunk of mapAnthropicStream(anthropicStreamEvents(frames, name), name)) yield [chunk];
      } catch (err) {
        throw settle(name, err, signal);
      }
    },
  };
}
