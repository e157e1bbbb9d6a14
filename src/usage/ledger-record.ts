/** One call's ledger record, as finance and operators see it (docs/architecture.md, "6. The ledger"). */

export type UsageSource = 'reported' | 'estimated';

/**
 * Ledger routes of the client APIs every gateway serves, whatever its config: OpenAI chat
 * completions, OpenAI Responses, Anthropic Messages, legacy completions and embeddings. The one
 * list metrics labels, reports and docs take them from.
 */
export const API_ROUTES = ['chat', 'responses', 'messages', 'completions', 'embeddings'] as const;
export type ApiRoute = (typeof API_ROUTES)[number];

/** What an AI call is recorded under: a client API, or a prompt or service named by the config. */
export type LedgerRoute = ApiRoute | `prompt:${string}` | `service:${string}`;

/** One call, as finance and operators see it. */
export interface LedgerRecord {
  /** The call's own id (a UUIDv7 the gateway made): the record's key, and idempotency's. */
  id: string;
  /** The client's `x-request-id`, kept for correlation only; null when it sent none. */
  client_request_id: string | null;
  /** Epoch ms when the call started. */
  time: number;
  key_id: string | null;
  team: string | null;
  /** A LedgerRoute when written; typed `string` as stores give back whatever was stored. */
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
  /** Calls of a model group or prompt with a response cache: what the cache did. */
  cache_status?: 'hit' | 'miss' | 'bypass';
  /** Cache hits: what the answer cost when it was fetched, nano-USD (the hit itself costs 0). */
  saved_cost_nano_usd?: number;
  /** Guardrail rules that fired (`pii:email`, `deny:1`, `max_input_tokens`), never the matched values. */
  guardrails?: string[];
  /** `downgraded` when the caller's budget use sent the call to its group's cheaper `budget_fallback`. */
  budget?: 'downgraded';
  /** Request fields the provider could not honour (what `x-gateway-warnings` said). */
  warnings?: string[];
  /** The error code when status >= 400. */
  error_code?: string;
  /** Service calls only: request body bytes sent upstream. */
  request_bytes?: number;
  /** Service calls only: response body bytes sent to the client. */
  response_bytes?: number;
}

/** Who made a call and where it went: what every record starts from. */
export type RecordOrigin = Pick<LedgerRecord, 'id' | 'time' | 'key_id' | 'team' | 'route' | 'tags' | 'status'> & { client_request_id?: string | null };

/**
 * A record with nothing used and nothing billed yet; callers then set what they know. Built
 * as one literal with every field in a fixed order (no spreads): records are made per call,
 * and a stable object shape keeps that cheap.
 */
export function blankRecord(origin: RecordOrigin, now = Date.now()): LedgerRecord {
  return {
    id: origin.id,
    client_request_id: origin.client_request_id ?? null,
    time: origin.time,
    key_id: origin.key_id,
    team: origin.team,
    route: origin.route,
    model: null,
    provider: null,
    upstream_model: null,
    prompt_tokens: 0,
    completion_tokens: 0,
    cached_tokens: 0,
    usage_source: 'reported',
    cost_nano_usd: 0,
    price_known: true,
    latency_ms: now - origin.time,
    ttft_ms: null,
    status: origin.status,
    attempts: 0,
    tags: origin.tags,
    cache_hit: false,
  };
}
