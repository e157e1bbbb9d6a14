import type { FastifyBaseLogger } from 'fastify';
import type { BudgetPeriod } from './types.js';

/** Spend as a fraction of the budget at which an alert goes out, once per period each. */
export const ALERT_THRESHOLDS = [0.8, 1] as const;

export interface BudgetAlert {
  scope: 'key' | 'team';
  id: string;
  name: string;
  /** 0.8 or 1. */
  threshold: number;
  period: BudgetPeriod;
  budget_usd: number;
  spent_usd: number;
}

/** The thresholds a spend increase from `before` to `after` (nano-USD) crossed. */
export function crossedThresholds(budgetNano: number, before: number, after: number): number[] {
  return ALERT_THRESHOLDS.filter((t) => before < t * budgetNano && after >= t * budgetNano);
}

/**
 * Sends budget alerts: a warning log line always, and a JSON POST to the webhook when one is
 * configured. Redis's atomic counters make exactly one call cross each threshold, so an alert
 * goes out once per period across all instances. Webhook failures are logged, never retried.
 */
export function createBudgetAlerts(webhookUrl: string, log: FastifyBaseLogger): (alert: BudgetAlert) => void {
  return (alert) => {
    log.warn({ budget_alert: alert }, `${alert.scope} '${alert.id}' has spent ${Math.round(alert.threshold * 100)}% of its ${alert.period} budget`);
    if (!webhookUrl) return;
    fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'budget_alert', time: new Date().toISOString(), ...alert }),
      signal: AbortSignal.timeout(5000),
    }).then(
      (res) => {
        if (!res.ok) log.warn({ status: res.status }, 'budget alert webhook refused the alert');
        void res.body?.cancel();
      },
      (err: unknown) => log.warn({ err: (err as Error).message }, 'budget alert webhook failed'),
    );
  };
}
