/** Earlier traffic for the console's charts, written straight to the ledger store. */
import type { LedgerStore } from '../../src/usage/ledger-store.js';
import type { LedgerRecord } from '../../src/usage/ledger.js';

const DAY_MS = 86_400_000;

/**
 * Two weeks of earlier traffic written straight to the ledger store, so the charts have a
 * history to draw; none of it falls on today, which holds only the test's own calls.
 */
export async function seedHistory(store: LedgerStore, today: string): Promise<void> {
  const records: LedgerRecord[] = [];
  const models = [
    { model: 'mock', upstream: 'mock-1', input: 2.5, output: 10, share: 1 },
    { model: 'mock-fast', upstream: 'mock-2', input: 0.15, output: 0.6, share: 3 },
  ];
  const midnight = Date.parse(`${today}T00:00:00Z`);
  for (let day = 13; day >= 1; day--) {
    for (const [m, spec] of models.entries()) {
      // Weekdays busier than weekends, slowly growing towards today, a little jitter.
      const weekday = new Date(midnight - day * DAY_MS).getUTCDay();
      const busy = weekday === 0 || weekday === 6 ? 0.35 : 1;
      const calls = Math.round(spec.share * busy * (10 + (13 - day) * 0.8 + ((day * 5 + m * 3) % 4)));
      for (let i = 0; i < calls; i++) {
        const prompt = 400 + ((i * 97 + day * 13) % 900);
        const completion = 80 + ((i * 31 + day) % 300);
        const failed = (i + day) % 23 === 0;
        records.push({
          id: `seed-${day}-${m}-${i}`,
          client_request_id: null,
          time: midnight - day * DAY_MS + ((i * 3_600_000 * 7) % DAY_MS),
          key_id: null,
          team: i % 3 === 0 ? 'data-science' : 'web',
          route: 'chat',
          model: spec.model,
          provider: 'demo',
          upstream_model: spec.upstream,
          prompt_tokens: prompt,
          completion_tokens: failed ? 0 : completion,
          cached_tokens: 0,
          usage_source: 'reported',
          cost_nano_usd: failed ? 0 : Math.round((prompt * spec.input + completion * spec.output) * 1000),
          price_known: true,
          latency_ms: 180 + ((i * 53 + day * 11) % 500) + m * 150,
          ttft_ms: null,
          status: failed ? 502 : 200,
          attempts: 1,
          tags: [],
          cache_hit: false,
        });
      }
    }
  }
  await store.write({ id: 'ui-e2e-seed', records });
}
