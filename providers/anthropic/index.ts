/**
 * Anthropic's Messages API. Read in this order: wire-types → convert-messages, prepare-tools →
 * to-request → from-response → map-finish-reason → map-stream → errors → warnings → adapter.
 */
export type {
  AnthropicBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicResponseBlock,
  AnthropicStreamEvent,
  AnthropicToolChoice,
  AnthropicTurn,
  AnthropicUsage,
} from './wire-types.js';
export { DEFAULT_MAX_TOKENS, toAnthropicRequest } from './to-request.js';
export { fromAnthropicResponse, fromAnthropicUsage } from './from-response.js';
export { mapAnthropicFinishReason } from './map-finish-reason.js';
export { anthropicStreamEvents, mapAnthropicStream } from './map-stream.js';
export { anthropicWarnings } from './warnings.js';
export { ANTHROPIC_VERSION, DEFAULT_ANTHROPIC_BASE_URL, createAnthropicAdapter } from './adapter.js';
