/**
 * How a chat call is written back to the client. The pipeline speaks canonical answers
 * (ChatResponse, ChatChunk); each client-facing API (OpenAI chat completions, OpenAI Responses,
 * Anthropic Messages, legacy completions) is one ChatFormat, so balancing, limits, budgets,
 * guardrails, the cache and the ledger are the same code whatever the client speaks.
 */
import type { GatewayError } from '../core/errors.js';
import type { ChatChunk, ChatResponse, Usage } from '../core/types.js';
import type { Call } from '../pipeline/call.js';

/** Who answered, as the rendered body names it. */
export interface AnswerSource {
  /** The model the upstream says answered. */
  upstreamModel: string;
  /** The provider name (a key under `providers:`). */
  provider: string;
}

/** One streamed answer's frames. Made per stream; may keep state (open blocks, sequence numbers). */
export interface ChatStreamEncoder {
  /** Adopts the upstream's model name once known, before the first frame is written. */
  setModel(model: string): void;
  readonly upstreamModel: string;
  /** The frames for one chunk ('' for none); the first call may lead with the stream's opening frames. */
  encode(chunk: ChatChunk): string;
  /** The frames that close a stream that ended cleanly (a Promise when they need I/O first, e.g. storing the answer). */
  end(usage: Usage): string | Promise<string>;
  /** The frames that end a stream that failed after its headers went out (the client raises, not finishes). */
  fail(error: GatewayError): string;
}

export interface ChatFormat {
  /** The JSON body of a whole answer (a Promise when it needs I/O first, e.g. storing the answer). */
  renderResponse(call: Call, response: ChatResponse, usage: Usage, source: AnswerSource): unknown;
  /** A fresh encoder for one streamed answer. */
  streamEncoder(call: Call, upstreamModel: string): ChatStreamEncoder;
}
