/**
 * After a call: the ledger record brings its real tokens and cost. Settling corrects the tpm
 * windows (real minus reserved tokens) and adds the cost to the spend counters, then raises
 * the budget alerts the increase crossed.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { LedgerRecord } from '../usage/ledger.js';
import { crossedThresholds, type BudgetAlert } from './budget-alerts.js';
import type { Identity, IdentityResolver } from './identity.js';
import type { UsageCounters } from './usage-counters.js';

interface Reservation {
  identity: Identity;
  /** Tokens reserved in the tpm windows at admission. */
  tokens: number;
}

/** Admitted calls whose ledger record has not come yet; far above any sane concurrency. */
const MAX_PENDING = 100_000;

export class Settlement {
  private readonly pending = new Map<string, Reservation>();

  constructor(
    private readonly counters: UsageCounters,
    private readonly resolver: IdentityResolver,
    private readonly alert: (alert: BudgetAlert) => void,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number,
  ) {}

  /** Remembers what an admitted call reserved, until its record or its response end comes. */
  reserve(requestId: string, identity: Identity, tokens: number): void {
    if (this.pending.size >= MAX_PENDING) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.pending.set(requestId, { identity, tokens });
  }

  /**
   * Settles a ledger record of an identified caller. Runs synchronously as the record is
   * written, before the answer goes out, so on one Redis connection the correction is ahead of
   * the caller's next call.
   */
  settle(record: LedgerRecord): void {
    if (record.key_id === null) return;
    const reservation = this.pending.get(record.id);
    if (reservation) {
      this.pending.delete(record.id);
      this.apply(reservation.identity, record.prompt_tokens + record.completion_tokens - reservation.tokens, record.cost_nano_usd);
      return;
    }
    // A call this instance did not admit (a route that only identifies): still bill its cost.
    if (record.cost_nano_usd <= 0) return;
    this.resolver.byKeyId(record.key_id).then(
      (identity) => identity && this.apply(identity, 0, record.cost_nano_usd),
      (err: unknown) => this.log.warn({ err: (err as Error).message, key_id: record.key_id }, 'could not bill a call to its key'),
    );
  }

  /** A call admitted but never recorded (refused by its route) gives its reserved tokens back. */
  release(requestId: string): void {
    const reservation = this.pending.get(requestId);
    if (!reservation) return;
    this.pending.delete(requestId);
    this.apply(reservation.identity, -reservation.tokens, 0);
  }

  private apply(identity: Identity, tokenDelta: number, costNano: number): void {
    const correctsTokens = identity.countsTokens && tokenDelta !== 0;
    if (!correctsTokens && costNano <= 0) return;
    const settling = { scopes: identity.scopes, tokenDelta: correctsTokens ? tokenDelta : 0, costNano, now: this.now() };
    this.counters.settle(settling).then(
      (spent) => {
        if (costNano > 0) this.checkAlerts(identity, spent, costNano);
      },
      (err: unknown) => this.log.warn({ err: (err as Error).message, key_id: identity.key.id }, 'could not settle a call on its limits'),
    );
  }

  private checkAlerts(identity: Identity, spent: number[], costNano: number): void {
    identity.scopes.forEach((scope, i) => {
      if (scope.budgetNano === null) return;
      const after = spent[i] ?? 0;
      const owner =
        i === 0
          ? { scope: 'key' as const, id: identity.key.id, name: identity.key.name }
          : { scope: 'team' as const, id: identity.team!.id, name: identity.team!.name };
      for (const threshold of crossedThresholds(scope.budgetNano, after - costNano, after)) {
        this.alert({ ...owner, threshold, period: scope.period, budget_usd: scope.budgetNano / 1e9, spent_usd: after / 1e9 });
      }
    });
  }
}
