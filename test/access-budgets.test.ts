/**
 * Budgets per key and team, from the ledger's costs (a mock deployment priced at $0.001 per
 * token): calls pass while the spend is under the budget, then 429 insufficient_quota; team
 * budgets are shared by their keys; alerts at 80% and 100% reach the log and a webhook once.
 * On the real Redis and on the embedded memory store.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { accessConfig, admin, chat, clientFor, createKey, createTeam } from './helpers/access.js';
import { dropPrefix, uniquePrefix } from './helpers/redis.js';
import { sendJson, startFakeServer, type FakeServer } from './fakes/fake-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const prefix = uniquePrefix('access-budgets');
afterAll(() => dropPrefix(prefix));

const nano = (usd: number) => Math.round(usd * 1e9);

describe.each([{ store: 'redis' }, { store: 'memory' }])('budgets on $store', ({ store }) => {
  let gw: TestGateway;
  let webhook: FakeServer;
  const logs: string[] = [];

  beforeAll(async () => {
    webhook = await startFakeServer((_req, res) => sendJson(res, 204, {}));
    // A reserve of one output token: calls without max_tokens run past their reservation (the mock
    // answers ~10 tokens), which is the one way spend may pass a budget; the tests bound by how much.
    const config = {
      ...accessConfig({ prefix: store === 'redis' ? `${prefix}${store}:` : undefined, webhook: `${webhook.url}/alerts` }),
      server: { log_level: 'warn' },
      budgets: { reserve_output_tokens: 1 },
    };
    gw = await startGateway(config, { logStream: { write: (line) => void logs.push(line) } });
  });
  afterAll(async () => {
    await gw.close();
    await webhook.close();
  });

  /**
   * Calls until the budget refuses; answers the nano-USD spent and the refusal. Admission
   * reserves each call's cost first, so spend passes the budget by at most what the last call
   * cost beyond its reservation: less than one call's cost.
   */
  async function spendUntilRefused(clients: ReturnType<typeof clientFor>[], budgetUsd: number) {
    let spent = 0;
    let last = 0;
    for (let i = 0; i < 20; i++) {
      const answer = await chat(clients[i % clients.length]!, 'paid');
      if (answer.status !== 200) {
        expect(spent - nano(budgetUsd)).toBeLessThan(last);
        return { spent, calls: i, refused: answer };
      }
      expect(answer.cost).toBeGreaterThan(0);
      last = nano(answer.cost!);
      spent += last;
    }
    throw new Error('the budget never refused a call');
  }

  test('a key with a total budget is served until its spend reaches it, then gets insufficient_quota', async () => {
    const { id, key } = await createKey(gw.url, { name: 'capped', budget_usd: 0.05 });
    const { spent, calls, refused } = await spendUntilRefused([clientFor(gw.url, key)], 0.05);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    expect(refused.headers.get('x-should-retry')).toBe('false');
    expect(refused.headers.get('retry-after')).toBeNull(); // a total budget never refills
    expect(nano((await admin(gw.url, 'GET', `/admin/keys/${id}`)).body.spend_usd)).toBe(spent);
    // A free call reserves nothing: it passes while spend is under the budget, and not once spend
    // reached it (the last call may run past its one-token output reservation).
    expect((await chat(clientFor(gw.url, key), 'free')).status).toBe(spent < nano(0.05) ? 200 : 429);

    // A raised budget is in force at once.
    await admin(gw.url, 'PATCH', `/admin/keys/${id}`, { budget_usd: 1 });
    expect((await chat(clientFor(gw.url, key), 'paid')).status).toBe(200);
  });

  test("a team's daily budget is shared by its keys and says when it resets", async () => {
    await createTeam(gw.url, { name: `thrifty-${store}`, budget_usd: 0.07, budget_period: 'day' });
    const one = await createKey(gw.url, { name: 'one', team: `thrifty-${store}` });
    const two = await createKey(gw.url, { name: 'two', team: `thrifty-${store}` });
    const { spent, refused } = await spendUntilRefused([clientFor(gw.url, one.key), clientFor(gw.url, two.key)], 0.07);
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota' });
    expect(refused.message).toMatch(/team .*daily budget/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect((await chat(clientFor(gw.url, one.key), 'paid')).status).toBe(429);

    const team = await admin(gw.url, 'GET', `/admin/teams/thrifty-${store}`);
    expect(nano(team.body.spend_usd)).toBe(spent);
    const keys = await admin(gw.url, 'GET', `/admin/keys?team=thrifty-${store}`);
    const byKey = keys.body.keys.map((k: { spend_usd: number }) => nano(k.spend_usd));
    expect(byKey.reduce((a: number, b: number) => a + b, 0)).toBe(spent);
  });

  test('alerts at 80% and at 100% go to the log and the webhook, once each', async () => {
    const probe = await createKey(gw.url, { name: 'probe' });
    const cost = (await chat(clientFor(gw.url, probe.key), 'paid')).cost!;
    // The first call lands at ~56% of the budget; the second's reservation (prompt and one output
    // token) still fits, and it runs past it to ~111%: both thresholds are crossed at once.
    const budget = Number((cost * 1.8).toFixed(9));
    const { id, key } = await createKey(gw.url, { name: 'watched', budget_usd: budget, budget_period: 'month' });
    const client = clientFor(gw.url, key);
    const alertsFor = () => webhook.requests.filter((r) => (r.body as { id?: string }).id === id).map((r) => r.body as Record<string, unknown>);

    expect((await chat(client, 'paid')).status).toBe(200);
    expect(alertsFor()).toHaveLength(0);

    expect((await chat(client, 'paid')).status).toBe(200);
    await vi.waitFor(() => expect(alertsFor()).toHaveLength(2));
    const byThreshold = alertsFor().sort((a, b) => Number(a.threshold) - Number(b.threshold));
    expect(byThreshold[0]).toMatchObject({ type: 'budget_alert', scope: 'key', id, name: 'watched', threshold: 0.8, period: 'month', budget_usd: budget });
    expect(byThreshold[1]).toMatchObject({ threshold: 1, spent_usd: nano(cost * 2) / 1e9 });
    expect(webhook.requests.at(-1)!.url).toBe('/alerts');

    expect((await chat(client, 'paid')).status).toBe(429);
    expect(alertsFor()).toHaveLength(2);
    const lines = logs.filter((line) => line.includes('budget_alert') && line.includes(id));
    expect(lines).toHaveLength(2);
  });
});
