/**
 * The response cache: lookups and writes on the store, plus in-process request coalescing.
 * While one call (the leader) fetches an answer, identical calls (followers) wait for it
 * instead of calling upstream too; a failed leader lets each follower call on its own.
 * The store never fails a call: an unreachable store reads as a miss and skips the write.
 */
import type { FastifyBaseLogger } from 'fastify';
import { decodeAnswer, encodeAnswer, type CachedAnswer } from './cached-answer.js';
import type { CachePlan } from './cache-plan.js';
import type { CacheStore } from './cache-store.js';

export type Ticket =
  | { kind: 'hit'; answer: CachedAnswer }
  /** Fetch the answer; `settle` is set for a leader, whose followers wait for it. */
  | { kind: 'fresh'; settle?: (answer: CachedAnswer | undefined) => void };

/** Store trouble is logged at most this often: under an outage every call would log it. */
const WARN_EVERY_MS = 10_000;

export class ResponseCache {
  private readonly flights = new Map<string, Promise<CachedAnswer | undefined>>();
  private lastWarning = 0;
  private followers = 0;

  constructor(
    private readonly store: CacheStore,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Calls waiting for a leader's answer right now. */
  get waiting(): number {
    return this.followers;
  }

  get storeKind(): CacheStore['kind'] {
    return this.store.kind;
  }

  private warn(err: unknown, action: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.log.warn({ err: (err as Error).message, store: this.store.kind }, `response cache: ${action} failed; calls go upstream meanwhile`);
  }

  /** Registers a leader; the returned function hands its answer to the followers, once. */
  private lead(key: string): (answer: CachedAnswer | undefined) => void {
    let resolve!: (answer: CachedAnswer | undefined) => void;
    const flight = new Promise<CachedAnswer | undefined>((r) => (resolve = r));
    this.flights.set(key, flight);
    let settled = false;
    return (answer) => {
      if (settled) return;
      settled = true;
      if (this.flights.get(key) === flight) this.flights.delete(key);
      resolve(answer);
    };
  }

  private async read(plan: CachePlan & { key: string }): Promise<CachedAnswer | undefined> {
    let text: string | undefined;
    try {
      text = await this.store.get(plan.namespace, plan.key);
    } catch (err) {
      this.warn(err, 'lookup');
      return undefined;
    }
    return text === undefined ? undefined : decodeAnswer(text);
  }

  /**
   * A hit (from a call in flight or from the store) or a ticket to fetch the answer. The
   * flight is registered before the store is asked, so calls arriving together all find it.
   * A leader must pass its ticket to `complete`, whatever happens.
   */
  async acquire(plan: CachePlan): Promise<Ticket> {
    const key = plan.key;
    if (key === undefined || !plan.read) return { kind: 'fresh' };
    const inFlight = this.flights.get(key);
    if (inFlight) {
      this.followers++;
      let answer;
      try {
        answer = await inFlight;
      } finally {
        this.followers--;
      }
      return answer ? { kind: 'hit', answer } : { kind: 'fresh' };
    }
    // Only a call that may store its answer leads: a `no-store` call's answer is its own.
    const settle = plan.write ? this.lead(key) : undefined;
    const answer = await this.read({ ...plan, key });
    if (answer) {
      settle?.(answer);
      return { kind: 'hit', answer };
    }
    return { kind: 'fresh', settle };
  }

  /** Ends a fresh call: its answer (undefined when it failed) goes to the followers and, if allowed, the store. */
  complete(plan: CachePlan, ticket: Ticket, answer: CachedAnswer | undefined): void {
    if (ticket.kind === 'fresh') ticket.settle?.(answer);
    if (!answer || !plan.write || plan.key === undefined) return;
    const limits = { ttlMs: plan.settings.ttl_s * 1000, maxEntries: plan.settings.max_entries };
    this.store.set(plan.namespace, plan.key, encodeAnswer(answer), limits).catch((err: unknown) => this.warn(err, 'write'));
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
