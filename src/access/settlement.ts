/**
 * After a call: its ledger record brings its real tokens and cost. Settling releases the
 * call's reservation (found by the call id), corrects the tpm window it reserved in, adds the
 * cost to the key's and team's spend, then raises the budget alerts the increase crossed.
 *
 * On Redis, settlements go through the same durable path as the ledger (a batching outbox that
 * buffers while Redis is away, spools at shutdown and replays at the next start) and each
 * batch counts once: after any outage, spend equals the ledger. The first write starts as the
 * record is made, on the connection admissions use, so the caller's next call sees it.
 */
import type { FastifyBaseLogger } from 'fastify';
import { BatchingLedger } from '../usage/batching-ledger.js';
import type { LedgerBatch, RecordSink } from '../usage/ledger-store.js';
import type { LedgerRecord } from '../usage/ledger.js';
import { crossedThresholds, type BudgetAlert } from './budget-alerts.js';
import type { Identity, IdentityResolver } from './identity.js';
import { keyVersionField, teamVersionField } from './redis-access-store.js';
import type { CallUsage, SettledSpend, UsageCounters } from './usage-counters.js';

export interface SettlementOptions {
  counters: UsageCounters;
  resolver: IdentityResolver;
  alert: (alert: BudgetAlert) => void;
  log: FastifyBaseLogger;
  /** Settle through a durable outbox (a shared store): where it spools, and what names the store. */
  durable?: { spoolDir: string; storeScope: string; writeTimeoutMs?: number };
}

function usageOf(record: LedgerRecord): CallUsage {
  const scopeIds = [keyVersionField(record.key_id!)];
  if (record.team !== null) scopeIds.push(teamVersionField(record.team));
  return { callId: record.id, scopeIds, tokens: record.prompt_tokens + record.completion_tokens, costNano: record.cost_nano_usd, time: record.time };
}

/** Identities of calls admitted here and not settled yet; far above any sane concurrency. */
const MAX_REMEMBERED = 100_000;

export class Settlement {
  private readonly outbox: BatchingLedger<RecordSink> | undefined;
  private seq = 0;
  /** Call id → the identity that admitted it, so alerts need no store read for calls admitted here. */
  private readonly admitted = new Map<string, Identity>();

  constructor(private readonly options: SettlementOptions) {
    const durable = options.durable;
    if (durable) {
      const sink: RecordSink = {
        durable: true,
        scope: `settle:${durable.storeScope}`,
        write: (batch: LedgerBatch) => this.apply(batch.id, batch.records),
        close: async () => undefined,
      };
      this.outbox = new BatchingLedger(sink, {
        writeAtOnce: true,
        spoolDir: durable.spoolDir,
        writeTimeoutMs: durable.writeTimeoutMs,
        log: options.log,
      });
    }
  }

  /** Remembers who an admitted call belongs to, until its record settles. */
  remember(callId: string, identity: Identity): void {
    if (this.admitted.size >= MAX_REMEMBERED) {
      const oldest = this.admitted.keys().next().value;
      if (oldest !== undefined) this.admitted.delete(oldest);
    }
    this.admitted.set(callId, identity);
  }

  /** A ledger listener: settles every record of an identified caller. Never throws, never waits. */
  settle(record: LedgerRecord): void {
    if (record.key_id === null) return;
    if (this.outbox) {
      this.outbox.record(record);
      return;
    }
    this.apply(`local.${++this.seq}`, [record]).catch((err: unknown) =>
      this.options.log.warn({ err: (err as Error).message, key_id: record.key_id }, 'could not settle a call'),
    );
  }

  /** Settlements not written yet (buffered while the store is away). */
  pending(): number {
    return this.outbox?.stats().queued ?? 0;
  }

  /** Writes what is queued; spools the rest at close. */
  async close(): Promise<void> {
    await this.outbox?.close();
  }

  private async apply(batchId: string, records: readonly LedgerRecord[]): Promise<void> {
    const usages = records.map(usageOf);
    const spends = await this.options.counters.settle(batchId, usages);
    records.forEach((record, i) => {
      const identity = this.admitted.get(record.id);
      this.admitted.delete(record.id);
      if (record.cost_nano_usd > 0) void this.checkAlerts(record, spends[i] ?? [], identity);
    });
  }

  private async checkAlerts(record: LedgerRecord, spends: SettledSpend, admittedBy: Identity | undefined): Promise<void> {
    if (spends.length === 0) return;
    let identity = admittedBy;
    try {
      // A call admitted elsewhere, or replayed after a restart: read its key.
      identity ??= (await this.options.resolver.byKeyId(record.key_id!)) ?? undefined;
    } catch {
      return;
    }
    if (!identity || !identity.hasBudget) return;
    identity.scopes.forEach((scope, i) => {
      const after = spends[i]?.[scope.period];
      if (scope.budgetNano === null || after === undefined) return;
      const owner =
        i === 0
          ? { scope: 'key' as const, id: identity.key.id, name: identity.key.name }
          : { scope: 'team' as const, id: identity.team!.id, name: identity.team!.name };
      for (const threshold of crossedThresholds(scope.budgetNano, after - record.cost_nano_usd, after)) {
        this.options.alert({ ...owner, threshold, period: scope.period, budget_usd: scope.budgetNano / 1e9, spent_usd: after / 1e9 });
      }
    });
  }
}
