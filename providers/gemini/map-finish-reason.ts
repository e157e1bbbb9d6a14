import type { FinishReason } from '../../src/core/types.js';

/** Gemini says STOP after a function call too; a candidate that called a tool finished with `tool_calls`. */
export function mapGeminiFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content_filter';
    default:
      // STOP, OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL, unspecified, future values.
      return hasToolCalls ? 'tool_calls' : 'stop';
  }
}
