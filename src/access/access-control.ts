/**
 * The access stage of the pipeline: identify the caller from its key, then admit each call
 * against permissions, rate limits and budgets, and settle its real tokens and cost once the
 * ledger records it. Provider adapters and the ledger know nothing of this.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../core/caller.js';
import { GatewayError } from '../core/errors.js';
import { presentedKey } from '../plugins/admin-auth.js';
import type { LedgerRecord } from '../usage/ledger.js';
import type { AccessStore } from './access-store.js';
import type { BudgetAlert } from './budget-alerts.js';
import { IdentityResolver, type Identity } from './identity.js';
import { mayUse, type ResourceKind } from './permissions.js';
import { rateLimitHeaders } from './rate-limit-headers.js';
import { refusalOf } from './refusals.js';
import { hashSecret } from './secrets.js';
import { Settlement, type SettlementOptions } from './settlement.js';
import type { SubscriptionKind } from './types.js';
import type { Admission, UsageCounters } from './usage-counters.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's key and team; null when anonymous or the master key. */
    accessIdentity: Identity | null;
    /** The largest share of a budget the caller has spent or reserved, this call included (0: none). */
    budgetUse: number;
  }
}

/** What a call asks for, checked by `admit`. */
export interface Demand {
  /** What is called, checked against the caller's permissions (403). */
  resource?: { kind: ResourceKind; name: string };
  /** Tokens the call may use (prompt + max completion); asked only when a tpm limit applies. */
  tokens?: () => number;
  /** The call's worst-case cost, nano-USD, reserved against budgets; asked only when a budget applies. */
  reserveNano?: () => number;
  /** False for routes that spend nothing (listings): nothing is counted, the key is only checked current. */
  count?: boolean;
}

export interface AccessOptions {
  store: AccessStore;
  counters: UsageCounters;
  masterKey: string;
  requireKeys: boolean;
  log: FastifyBaseLogger;
  alert: (alert: BudgetAlert) => void;
  now?: () => number;
  /** Settle through a durable outbox (the store is shared): see Settlement. */
  durableSettlement?: SettlementOptions['durable'];
}

/** The caller presenting the master key: unlimited, may use everything, billed to no key. */
export const OPERATOR: Caller = Object.freeze({ keyId: null, team: null });

/** Reloads of a changing record before giving up on one call. */
const MAX_RELOADS = 3;

function storeDown(err: unknown): GatewayError {
  return new GatewayError('service_unavailable', 'the access store is unreachable; try again shortly', { cause: err, retryAfter: 1 });
}

export class AccessControl {
  readonly store: AccessStore;
  readonly counters: UsageCounters;
  readonly resolver: IdentityResolver;
  private readonly masterHash: Buffer | null;
  private readonly settlement: Settlement;
  private readonly now: () => number;

  constructor(private readonly options: AccessOptions) {
    this.store = options.store;
    this.counters = options.counters;
    this.now = options.now ?? Date.now;
    this.resolver = new IdentityResolver(options.store, { now: this.now });
    this.masterHash = options.masterKey ? Buffer.from(hashSecret(options.masterKey), 'hex') : null;
    this.settlement = new Settlement({
      counters: this.counters,
      resolver: this.resolver,
      alert: options.alert,
      log: options.log,
      durable: options.durableSettlement,
    });
  }

  /** False when `identify` would return at once: no key presented, and none required. */
  needsIdentify(request: FastifyRequest): boolean {
    return this.options.requireKeys || presentedKey(request) !== undefined;
  }

  /**
   * Identifies the caller (an onRequest hook): sets `request.caller` for a known key; 401 for
   * a missing or unknown key when keys are required, and for a revoked or expired key always.
   * No key and keys not required: returns at once, anonymous. The master key passes as an
   * unlimited operator.
   */
  identify = async (request: FastifyRequest): Promise<void> => {
    const secret = presentedKey(request);
    if (secret === undefined) {
      if (this.options.requireKeys) {
        throw new GatewayError('unauthorized', 'Missing API key: send it as `Authorization: Bearer <key>` or `x-api-key`');
      }
      return;
    }
    const hash = hashSecret(secret);
    if (this.masterHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.masterHash)) {
      request.caller = OPERATOR;
      return;
    }
    let identity: Identity | null;
    try {
      identity = await this.resolver.resolve(hash);
      // A refusal is never based on a cached copy alone: the key may have been renewed elsewhere.
      if (identity && this.store.shared && this.unusable(identity)) identity = await this.resolver.reload(hash);
    } catch (err) {
      throw storeDown(err);
    }
    if (!identity) {
      if (this.options.requireKeys) throw new GatewayError('invalid_api_key', 'Incorrect API key provided');
      return;
    }
    const refusal = this.unusable(identity);
    if (refusal) throw refusal;
    request.accessIdentity = identity;
    request.caller = identity.caller;
  };

  /**
   * Admits one call of an identified caller (a preHandler, or called by a route once it knows
   * what the call asks for): 403 for a resource the key or team may not use, 429 over rpm,
   * tpm or budget; on success sets the `x-ratelimit-*` headers and reserves the call's tokens
   * and worst-case cost, in the same atomic step, until its ledger record settles them.
   * Anonymous callers pass untouched.
   */
  async admit(request: FastifyRequest, reply: FastifyReply, demand: Demand = {}): Promise<void> {
    let identity = request.accessIdentity;
    if (!identity) return;
    const count = demand.count !== false;
    let tokens: number | undefined;
    let reserveNano: number | undefined;
    // Whether `identity` was read from the store during this call, rather than from the cache.
    let isFresh = !this.store.shared;
    for (let reloads = 0; ; reloads++) {
      if (demand.resource && !mayUse(identity.caller, demand.resource.kind, demand.resource.name)) {
        if (!isFresh) {
          // The cached permissions may be older than a change made on another instance.
          identity = await this.reload(request, identity);
          isFresh = true;
          continue;
        }
        const { kind, name } = demand.resource;
        throw new GatewayError('forbidden', `This key may not use the ${kind.slice(0, -1)} '${name}'`, { param: kind === 'models' ? 'model' : null });
      }
      // The memory store cannot be stale, so a key without limits needs no counters at all.
      if (!this.store.shared && !(count && identity.isLimited)) break;
      if (count && identity.countsTokens) tokens ??= demand.tokens?.() ?? 0;
      if (count && identity.hasBudget) reserveNano ??= demand.reserveNano?.() ?? 0;
      let admission: Admission;
      try {
        admission = await this.counters.admit({ scopes: identity.scopes, callId: request.id, tokens: tokens ?? 0, reserveNano: reserveNano ?? 0, count, now: this.now() });
      } catch (err) {
        throw storeDown(err);
      }
      // Redis ran it after this side stopped waiting: it refused itself, so nothing was counted.
      if (admission.outcome === 'late') throw storeDown(new Error('the admission reached the store too late'));
      if (admission.outcome === 'stale') {
        if (reloads >= MAX_RELOADS) throw storeDown(new Error('access records keep changing'));
        identity = await this.reload(request, identity);
        isFresh = true;
        continue;
      }
      if (admission.outcome !== 'admitted') throw refusalOf(identity, admission, tokens ?? 0, this.now());
      // On the raw response so streamed answers, written after a hijack, carry them too.
      const headers = rateLimitHeaders(identity.scopes, admission.windows);
      for (const name in headers) reply.raw.setHeader(name, headers[name]!);
      request.budgetUse = admission.budgetUse;
      break;
    }
    if (count) this.settlement.remember(request.id, identity);
  }

  /**
   * 403 unless the caller's team holds an approved subscription to the prompt API or service
   * (for those with `approval: required`). The master key (OPERATOR) passes.
   */
  async checkSubscription(caller: Caller, kind: SubscriptionKind, name: string): Promise<void> {
    if (caller === OPERATOR) return;
    const what = `${kind} '${name}'`;
    if (caller.team === null) {
      throw new GatewayError('forbidden', `The ${what} needs an approved subscription: call it with a key of a subscribed team`);
    }
    let approved: boolean;
    try {
      approved = await this.store.isApproved(caller.team, kind, name);
    } catch (err) {
      throw storeDown(err);
    }
    if (!approved) throw new GatewayError('forbidden', `Team '${caller.team}' has no approved subscription to the ${what}`);
  }

  /** Corrects the limits and spend of an identified caller from its ledger record (a ledger listener). */
  settle(record: LedgerRecord): void {
    this.settlement.settle(record);
  }

  /** Settlements not yet written to the store (buffered while it is away). */
  pendingSettlements(): number {
    return this.settlement.pending();
  }

  /** Writes the settlements still queued, or spools them for the next start. */
  close(): Promise<void> {
    return this.settlement.close();
  }

  private async reload(request: FastifyRequest, stale: Identity): Promise<Identity> {
    let identity: Identity | null;
    try {
      identity = await this.resolver.reload(stale.key.hash);
    } catch (err) {
      throw storeDown(err);
    }
    if (!identity) throw new GatewayError('invalid_api_key', 'Incorrect API key provided');
    const refusal = this.unusable(identity);
    if (refusal) throw refusal;
    request.accessIdentity = identity;
    request.caller = identity.caller;
    return identity;
  }

  /** Why the key may not be used at all (revoked, expired, team gone), or undefined. */
  private unusable(identity: Identity): GatewayError | undefined {
    if (identity.key.revoked_at !== null) return new GatewayError('invalid_api_key', 'This API key has been revoked');
    if (identity.expiresAtMs !== null && this.now() >= identity.expiresAtMs) {
      return new GatewayError('invalid_api_key', 'This API key has expired');
    }
    if (identity.teamMissing) return new GatewayError('forbidden', "This API key's team no longer exists");
    return undefined;
  }
}
