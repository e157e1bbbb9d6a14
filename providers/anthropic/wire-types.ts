/**
 * The parts of Anthropic's Messages API wire format we write and read (API version
 * 2026-10-21, the one `@anthropic-ai/sdk` 1.x sends). https://docs.anthropic.com/en/api/messages
 */

import type { CacheControl, ThinkingConfig } from '../../src/core/types.js';

/** The image types the Messages API takes as base64 data. */
export type ImageMediaType = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

export type AnthropicTextParam = { type: 'text'; text: string; cache_control?: CacheControl };

export type AnthropicBlock =
  | AnthropicTextParam
  | {
      type: 'image';
      source: { type: 'base64'; media_type: ImageMediaType; data: string } | { type: 'url'; url: string };
      cache_control?: CacheControl;
    }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string | AnthropicTextParam[]; is_error?: boolean };

export interface AnthropicTurn {
  role: 'user' | 'assistant';
  content: string | AnthropicBlock[];
}

export type AnthropicToolChoice =
  | { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicTurn[];
  /** Blocks only where a block carries a cache breakpoint; a plain string otherwise. */
  system?: string | AnthropicTextParam[];
  stop_sequences?: string[];
  metadata?: { user_id: string };
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown>; cache_control?: CacheControl }>;
  tool_choice?: AnthropicToolChoice;
  thinking?: ThinkingConfig;
}

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

export type AnthropicTextBlock = { type: 'text'; text: string };
export type AnthropicToolUseBlock = { type: 'tool_use'; id: string; name: string; input: unknown };

/** A response content block; kinds we do not map (thinking, server tools) are skipped. */
export type AnthropicResponseBlock = AnthropicTextBlock | AnthropicToolUseBlock | { type: string };

export function isTextBlock(block: AnthropicResponseBlock): block is AnthropicTextBlock {
  return block.type === 'text';
}

export function isToolUseBlock(block: AnthropicResponseBlock): block is AnthropicToolUseBlock {
  return block.type === 'tool_use';
}

export interface AnthropicMessage {
  id: string;
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: string | null;
  stop_sequence?: string | null;
  usage: AnthropicUsage;
}

export type AnthropicStreamEvent =
  | { type: 'message_start'; message: AnthropicMessage }
  | { type: 'content_block_start'; index: number; content_block: AnthropicResponseBlock }
  | {
      type: 'content_block_delta';
      index: number;
      delta: { type: 'text_delta'; text: string } | { type: 'input_json_delta'; partial_json: string } | { type: string };
    }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason: string | null; stop_sequence?: string | null }; usage?: AnthropicUsage | null }
  | { type: 'message_stop' }
  | { type: 'ping' }
  /** An `event: error` frame: the stream failed after its 200 (mapAnthropicStream throws it). */
  | { type: 'error'; error: { type: string; message: string } };
