import type { CallSignal } from './call-signal.js';
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, ProviderKind } from './types.js';

/**
 * A provider adapter maps the canonical request to one provider's SDK and its answers back.
 * It knows nothing of keys, budgets, balancing or the ledger.
 *
 * Errors (docs/architecture.md, "5. Errors"): an upstream failure is thrown as the neutral
 * `UpstreamError` (http | network | timeout | protocol | aborted); a fault of the caller's own
 * request found while mapping it is a `GatewayError` (400). When `signal` aborts, the adapter
 * throws its reason if that is an UpstreamError (the attempt's timeout) and an `aborted`
 * UpstreamError otherwise. A 200 that is not the provider's success shape is a `protocol`
 * error. A stream throws before its first chunk where it can, so the balancer may still fail
 * over, and ends with a `finish` chunk: one that ends without is cut.
 */
export interface ProviderAdapter {
  readonly kind: ProviderKind;
  /** The configured provider name (the key under `providers:`). */
  readonly name: string;
  chat(req: ChatRequest, signal: CallSignal): Promise<ChatResponse>;
  /**
   * The answer's chunks in order, in batches: what one read from the provider produced (never
   * an empty batch). A batch per read, not an item per chunk: each step of an async iteration
   * costs promises and ticks, which a stream would otherwise pay per token.
   */
  stream(req: ChatRequest, signal: CallSignal): AsyncIterable<ChatChunk[]>;
  /**
   * Request fields this provider cannot honour and leaves out, one short sentence each
   * (`temperature is not supported by anthropic and was dropped`). Pure and cheap: the call
   * asks before each attempt and reports them as `x-gateway-warnings`. Absent: none.
   */
  warnings?(req: ChatRequest): string[];
  /** Absent where the provider has no embeddings. */
  embed?(req: EmbeddingRequest, signal: CallSignal): Promise<EmbeddingResponse>;
  /** Releases connection pools; called when the gateway stops. */
  close?(): Promise<void>;
}
