/**
 * The ledger's contract: one record per call, handed over without waiting. The ledger knows
 * nothing of providers; the request path knows nothing of how records are stored.
 */

export type UsageSource = 'reported' | 'estimated';

/** One call, as finance and operators see it. */
export interface LedgerRecord {
  request_id: string;
  /** Epoch ms when the call started. */
  time: number;
  key_id: string | null;
  team: string | null;
  /** `chat`, `embeddings`, `prompt:<name>` or `service:<name>`. */
  route: string;
  /** The model group (or `provider/model`) the client asked for. */
  model: string | null;
  provider: string | null;
  upstream_model: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  usage_source: UsageSource;
  /** Cost in nano-USD (1e-9), an integer so sums stay exact. */
  cost_nano_usd: number;
  /** False when no price was known for the upstream model (cost counted as 0). */
  price_known: boolean;
  latency_ms: number;
  /** Time to first token for streams, ms; null otherwise. */
  ttft_ms: number | null;
  /** HTTP status, or the error status a stream ended with after its headers went out. */
  status: number;
  attempts: number;
  tags: string[];
  cache_hit: boolean;
  /** The error code when status >= 400. */
  error_code?: string;
}

export interface Ledger {
  /** Queues a record; never throws, never waits on storage. */
  record(record: LedgerRecord): void;
  /** Writes what is queued; used at shutdown and by tests. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
