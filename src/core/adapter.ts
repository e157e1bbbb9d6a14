import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, ProviderKind } from './types.js';

/**
 * A provider adapter maps the canonical request to one provider's SDK and its answers back.
 * It knows nothing of keys, budgets, balancing or the ledger.
 *
 * Errors: every failure is thrown as a GatewayError. When `signal` aborts, the adapter throws
 * `signal.reason` so the caller (which aborted it) decides between timeout and client abort.
 * A stream throws before its first chunk where it can, so the balancer may still fail over.
 */
export interface ProviderAdapter {
  readonly kind: ProviderKind;
  /** The configured provider name (the key under `providers:`). */
  readonly name: string;
  chat(req: ChatRequest, signal: AbortSignal): Promise<ChatResponse>;
  stream(req: ChatRequest, signal: AbortSignal): AsyncIterable<ChatChunk>;
  /** Absent where the provider has no embeddings. */
  embed?(req: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResponse>;
  /** Releases connection pools; called when the gateway stops. */
  close?(): Promise<void>;
}
