/**
 * One AI call from admission to settlement (docs/architecture.md, "3. The call"). The call owns
 * its id, its upstream legs (attempts, usage, cost), its notes (guardrails, cache, warnings)
 * and exactly one settlement: the one place an AI call's ledger record is written, which is
 * also what settles the caller's limits and spend (a ledger listener). Routes render; they
 * never write the ledger.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Caller } from '../core/caller.js';
import type { Deployment } from '../core/deployment.js';
import type { Usage } from '../core/types.js';
import type { Balancer } from '../routing/balancer.js';
import { blankRecord, type Ledger, type UsageSource } from '../usage/ledger.js';
import type { LedgerRoute } from '../usage/ledger-record.js';
import type { ClientClosedError } from './attempt-signal.js';
import type { ClientLink } from './client-link.js';
import type { CallTrace } from './call-trace.js';
import type { GatewayError } from '../core/errors.js';
import { errorCodeOf, statusOf } from './client-error.js';
import type { ModelRegistry } from './model-registry.js';

/** The long-lived parts every call uses, from the config snapshot the call runs on. */
export interface PipelineServices {
  registry: ModelRegistry;
  balancer: Balancer;
  ledger: Ledger;
}

/** What one upstream exchange of the call produced (a prompt's repair makes a second leg). */
export interface Leg {
  deployment: Deployment;
  /** Upstream attempts this leg took, the successful one included. */
  attempts: number;
  usage: Usage;
  usageSource: UsageSource;
  costNanoUsd: number;
  upstreamModel: string;
  /** ms from the call's start to the first content chunk (streams). */
  ttftMs?: number;
}

export interface CallInit {
  id: string;
  /** The client's `x-request-id`, when it sent a sane one: a correlation id, never a key. */
  clientRequestId: string | null;
  /** Ledger route: `chat`, `responses`, `messages`, `completions`, `embeddings`, `prompt:<name>`. */
  route: LedgerRoute;
  tags: string[];
  services: PipelineServices;
  /** Read at settlement: the auth stage identifies the caller after the call exists. */
  callerOf: () => Caller;
  /** Whether the client is still connected. */
  client: ClientLink;
  log: FastifyBaseLogger;
  now?: () => number;
  /** The call's span, when tracing is on (src/telemetry). */
  trace?: CallTrace;
}

/** How a call ended, when it was not by a reply the gateway sent. */
export interface CallEnd {
  status: number;
  errorCode?: string;
}

export class Call {
  readonly id: string;
  readonly clientRequestId: string | null;
  readonly tags: string[];
  readonly services: PipelineServices;
  readonly client: ClientLink;
  readonly log: FastifyBaseLogger;
  /** The call's span when tracing is on; the pipeline's hooks skip it with `?.` otherwise. */
  readonly trace: CallTrace | undefined;
  /** Epoch ms when the request arrived. */
  readonly startedAt: number;
  readonly now: () => number;
  route: LedgerRoute;
  /** The model group (or `provider/model`) the client asked for. */
  model: string | null = null;
  private readonly callerOf: () => Caller;
  private readonly legs: Leg[] = [];
  /** Attempts of a leg that failed, and where it went, for the record and the attempt headers. */
  private failedAttempts = 0;
  private failedAt: Deployment | undefined;
  private failure: GatewayError | ClientClosedError | undefined;
  /** Usage billed for a leg that never finished (abandoned, cut): estimated. */
  private partial: Leg | undefined;
  private guardrails: string[] | undefined;
  private cacheStatus: 'hit' | 'miss' | 'bypass' | undefined;
  private hit: { provider: string; upstreamModel: string; savedNanoUsd: number; ttftMs: number | null } | undefined;
  private warningList: string[] | undefined;
  private downgraded = false;
  private errorCode: string | undefined;
  private settled = false;
  /** Upstream legs under way; an end that comes meanwhile waits for them to note how they ended. */
  private busy = 0;
  private pendingEnd: CallEnd | undefined;

  constructor(init: CallInit) {
    this.id = init.id;
    this.clientRequestId = init.clientRequestId;
    this.route = init.route;
    this.tags = init.tags;
    this.services = init.services;
    this.callerOf = init.callerOf;
    this.client = init.client;
    this.log = init.log;
    this.now = init.now ?? Date.now;
    this.startedAt = this.now();
    this.trace = init.trace;
  }

  get caller(): Caller {
    return this.callerOf();
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** Upstream attempts so far, every leg and failure included. */
  get attempts(): number {
    let total = this.failedAttempts;
    for (const leg of this.legs) total += leg.attempts;
    return total + (this.partial?.attempts ?? 0);
  }

  /** What the legs so far cost, nano-USD: `x-gateway-cost-usd` of an answer made of several legs (a cache hit adds none). */
  get costNanoUsd(): number {
    let total = this.partial?.costNanoUsd ?? 0;
    for (const leg of this.legs) total += leg.costNanoUsd;
    return total;
  }

  /** The deployment that answered last (or failed last), for the `x-gateway-*` headers. */
  get lastDeployment(): Deployment | undefined {
    return this.partial?.deployment ?? this.legs.at(-1)?.deployment ?? this.failedAt;
  }

  /** Warnings for `x-gateway-warnings` (parameters a provider could not honour). */
  get warnings(): readonly string[] {
    return this.warningList ?? [];
  }

  warn(messages: readonly string[] | undefined): void {
    if (!messages || messages.length === 0) return;
    this.warningList ??= [];
    for (const message of messages) if (!this.warningList.includes(message)) this.warningList.push(message);
  }

  /** The caller's budget use moved the call to its group's cheaper `budget_fallback`. */
  noteBudgetDowngrade(): void {
    this.downgraded = true;
  }

  get isDowngraded(): boolean {
    return this.downgraded;
  }

  noteGuardrails(fired: string[]): void {
    if (fired.length > 0) this.guardrails = fired;
  }

  noteCache(status: 'hit' | 'miss' | 'bypass'): void {
    this.cacheStatus = status;
  }

  /** A cache hit answered the call: it costs 0 and saves what the answer cost when fetched. */
  noteCacheHit(answer: { provider: string; upstreamModel: string; costNanoUsd: number }, ttftMs: number | null): void {
    this.cacheStatus = 'hit';
    this.hit = { provider: answer.provider, upstreamModel: answer.upstreamModel, savedNanoUsd: answer.costNanoUsd, ttftMs };
  }

  /** The error code of a failure that happened outside the pipeline (validation, auth, limits). */
  noteErrorCode(code: string): void {
    this.errorCode ??= code;
  }

  addLeg(leg: Leg): void {
    this.legs.push(leg);
  }

  /** A leg that failed: its attempts count, and what it billed before failing (an abandoned or cut answer). */
  addFailure(error: GatewayError | ClientClosedError, attempts: number, deployment: Deployment | undefined, billed?: Leg): void {
    this.failure = error;
    this.failedAttempts += billed ? 0 : attempts;
    this.failedAt = deployment ?? this.failedAt;
    if (billed) this.partial = billed;
  }

  /** Runs an upstream leg, so a client leaving mid-leg settles the call after the leg billed what it sent. */
  async runLeg<T>(leg: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await leg();
    } finally {
      this.busy--;
      if (this.busy === 0 && this.pendingEnd) this.settle(this.pendingEnd);
    }
  }

  /** Settles now, or as soon as the leg under way has ended. */
  settleWhenIdle(end: CallEnd): void {
    if (this.busy > 0) this.pendingEnd = end;
    else this.settle(end);
  }

  /**
   * Settles the call once: writes its one ledger record (whose listeners settle limits,
   * spend and metrics). `end` says how the exchange ended; a failure the pipeline saw wins
   * over the status a generic reply carried. Later calls do nothing.
   */
  settle(end: CallEnd): void {
    if (this.settled) return;
    this.settled = true;
    const status = this.failure ? statusOf(this.failure) : end.status;
    const caller = this.caller;
    const record = blankRecord(
      { id: this.id, client_request_id: this.clientRequestId, time: this.startedAt, key_id: caller.keyId, team: caller.team, route: this.route, tags: this.tags, status },
      this.now(),
    );
    record.model = this.model;
    const legs = this.partial ? [...this.legs, this.partial] : this.legs;
    const last = legs.at(-1);
    let estimated = false;
    for (const leg of legs) {
      record.prompt_tokens += leg.usage.promptTokens;
      record.completion_tokens += leg.usage.completionTokens;
      record.cached_tokens += leg.usage.cachedTokens;
      record.cost_nano_usd += leg.costNanoUsd;
      if (leg.usageSource === 'estimated') estimated = true;
      if (!leg.deployment.pricing.known) record.price_known = false;
    }
    record.usage_source = estimated ? 'estimated' : 'reported';
    record.attempts = this.attempts;
    const deployment = last?.deployment ?? this.failedAt;
    if (deployment) {
      record.provider = deployment.provider;
      record.upstream_model = last?.upstreamModel ?? deployment.model;
    }
    if (last?.ttftMs !== undefined) record.ttft_ms = last.ttftMs;
    if (this.hit) {
      record.provider = this.hit.provider;
      record.upstream_model = this.hit.upstreamModel;
      record.cache_hit = true;
      record.saved_cost_nano_usd = this.hit.savedNanoUsd;
      record.ttft_ms = this.hit.ttftMs;
    }
    if (this.cacheStatus) record.cache_status = this.cacheStatus;
    if (this.guardrails) record.guardrails = this.guardrails;
    if (this.warningList) record.warnings = this.warningList;
    if (this.downgraded) record.budget = 'downgraded';
    if (status >= 400 || this.failure) record.error_code = this.failure ? errorCodeOf(this.failure) : (end.errorCode ?? this.errorCode);
    this.services.ledger.record(record);
    this.trace?.end(record, deployment);
  }
}
