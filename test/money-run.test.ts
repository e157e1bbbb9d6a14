/**
 * The money run: two gateway instances on one Redis of this suite's own (AOF, fsync'd on every
 * write), in front of the wire-faithful OpenAI-compatible, Anthropic and Gemini fakes, under a
 * bounded mixed load: plain and streamed chat, tool calls, retries across deployments, cache
 * hits, prompt APIs (text, streamed, JSON with a repair), streams the client cuts after the
 * first chunk, calls refused by a tight budget. Every call sets `max_tokens` and every upstream
 * reports at most the prompt admission counted, so no call may cost more than it reserved. Mid-run Redis is SIGKILLed while calls are in flight (keyed calls meanwhile get 503)
 * and started again, then one instance is closed and started again on the same spool dir.
 * Afterwards every number must add up to the nano-dollar:
 * - each call has exactly one ledger record, whose tokens are what the fake reported (0 for a
 *   cache hit, an estimate for a cut stream) and whose cost is tokens × the configured price;
 * - no call costs more than admission reserved for it;
 * - each key's and team's spend is the sum of its records' costs, and never above its budget;
 * - nothing stays reserved, and the rpm/tpm windows hold exactly what the admitted calls used.
 *
 * The fakes answer through a handler of this file (installed with their `enqueue`): each call's
 * user text carries a script tag `[[s:<id>]]` that says what the upstream answers (usage, text
 * or tool call, a 500 from the primary deployment, a stall after the first chunk, a hold until
 * Redis is dead), so the answer never depends on which request reaches a fake first.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countMessageTokens } from '../src/usage/count-tokens.js';
import { startFakeAnthropic } from './fakes/anthropic.js';
import type { FakeServer } from './fakes/fake-server.js';
import { startFakeGemini } from './fakes/gemini.js';
import { startFakeOpenAI } from './fakes/openai.js';
import { admin, createKey, createTeam, MASTER } from './helpers/access.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { seeded } from './helpers/random.js';
import { RedisProcess } from './helpers/redis-process.js';
import { eventually } from './helpers/wait.js';
import { ANTHROPIC_KEY, EXTRACT_YAML, GEMINI_KEY, MAX_TOKENS, PREFIX, PRICES, PROMPT_SYSTEM, PROMPT_YAML, TOOL, UPSTREAM_MODEL, answerAlways, answerAnthropic, answerGemini, answerOpenAI, billedUsage, expectedCostNano, nano, perform, pool, releaseHeld, reservationNano, scripts, seenUpstream, type Group, type KeyInfo, type Plan, type ProviderName, type Script, type Sent } from './helpers/money-run-world.js';

// ---- the run ----

interface LogRecord {
  id: string;
  key_id: string | null;
  team: string | null;
  route: string;
  model: string | null;
  provider: string | null;
  upstream_model: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  usage_source: 'reported' | 'estimated';
  cost_usd: number;
  price_known: boolean;
  status: number;
  error_code: string | null;
  attempts: number;
  cache_hit: boolean;
}

describe('the money run', () => {
  let dir: string;
  let redis: RedisProcess;
  let fakes: { openai: FakeServer; anthropic: FakeServer; gemini: FakeServer };
  const gws: TestGateway[] = [];
  let config: () => Record<string, unknown>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'konnect-money-'));
    const promptsDir = join(dir, 'prompts');
    await mkdir(promptsDir);
    await writeFile(join(promptsDir, 'recap.yaml'), PROMPT_YAML);
    await writeFile(join(promptsDir, 'extract.yaml'), EXTRACT_YAML);
    redis = new RedisProcess(await freePort(), dir);
    await redis.start();
    fakes = { openai: await startFakeOpenAI({ apiKey: null }), anthropic: await startFakeAnthropic(), gemini: await startFakeGemini() };
    answerAlways(fakes.openai, answerOpenAI);
    answerAlways(fakes.anthropic, answerAnthropic);
    answerAlways(fakes.gemini, answerGemini);
    // One provider entry per OpenAI-compatible deployment, all on the one fake: a record's provider names its price.
    const oa = (name: ProviderName) => [name, { type: 'openai-compatible', base_url: `${fakes.openai.url}/v1` }] as const;
    const deployment = (provider: ProviderName) => ({ provider, model: UPSTREAM_MODEL[provider], price: PRICES[provider] });
    config = () => ({
      store: { redis_url: redis.url, key_prefix: PREFIX },
      auth: { master_key: MASTER, require_keys: true },
      providers: {
        ...Object.fromEntries((['oa-chat', 'oa-cache', 'oa-primary', 'oa-backup'] as const).map(oa)),
        anthropic: { type: 'anthropic', api_key: ANTHROPIC_KEY, base_url: fakes.anthropic.url },
        gemini: { type: 'gemini', api_key: GEMINI_KEY, base_url: fakes.gemini.url },
      },
      models: [
        { name: 'gpt', retries: 0, deployments: [deployment('oa-chat')] },
        { name: 'claude', retries: 0, deployments: [deployment('anthropic')] },
        { name: 'gem', retries: 0, deployments: [deployment('gemini')] },
        { name: 'flaky', strategy: 'priority', retries: 1, deployments: [deployment('oa-primary'), deployment('oa-backup')] },
        { name: 'cached', retries: 0, cache: { ttl_s: 60 }, deployments: [deployment('oa-cache')] },
      ],
      prompts: { dir: promptsDir },
      ledger: { flush_interval_ms: 50, write_timeout_ms: 1000 },
    });
    gws.push(await startGateway(config()), await startGateway(config()));
  });

  afterAll(async () => {
    releaseHeld();
    for (const gw of gws) await gw?.close();
    await Promise.all(Object.values(fakes ?? {}).map((f) => f.close()));
    await redis?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('adds up to the nano-dollar across a Redis kill and an instance restart', { timeout: 60_000 }, async () => {
    const rand = seeded(20250618);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
    const int = (min: number, max: number) => min + Math.floor(rand() * (max - min + 1));

    // Teams and keys: generous budgets, and one key tight enough to be refused.
    const LIMITS = { rpm: 100_000, tpm: 10_000_000 };
    const teams = { north: 0.05, south: 0.05 } as const;
    for (const [id, budget] of Object.entries(teams)) await createTeam(gws[0]!.url, { id, name: id, budget_usd: budget, ...LIMITS });
    const keySpecs = [
      { name: 'n1', team: 'north', budget: 0.02, weight: 0.3 },
      { name: 'n2', team: 'north', budget: 0.02, weight: 0.25 },
      { name: 's1', team: 'south', budget: 0.02, weight: 0.25 },
      { name: 'tight', team: 'south', budget: 0.0006, weight: 0.2 },
    ];
    const keys: KeyInfo[] = [];
    for (const spec of keySpecs) {
      const { id, key } = await createKey(gws[1]!.url, { name: spec.name, team: spec.team, budget_usd: spec.budget, ...LIMITS });
      keys.push({ name: spec.name, id, secret: key, team: spec.team, budgetNano: nano(spec.budget) });
    }
    const generous = keys.filter((k) => k.name !== 'tight');
    const pickKey = (from: KeyInfo[] = keys): KeyInfo => {
      let r = rand() * from.reduce((sum, k) => sum + keySpecs.find((s) => s.name === k.name)!.weight, 0);
      for (const k of from) if ((r -= keySpecs.find((s) => s.name === k.name)!.weight) < 0) return k;
      return from.at(-1)!;
    };

    let nextScript = 1;
    const newScript = (extra: Partial<Script> = {}): Script => {
      const prompt = int(3, 12);
      const completion = int(1, 30);
      const cached = rand() < 0.5 ? int(1, prompt - 1) : 0;
      const script: Script = {
        id: nextScript++,
        usage: { prompt, completion, cached },
        cacheWrites: prompt - cached >= 3 && rand() < 0.4 ? 1 : 0,
        thoughts: rand() < 0.3 ? int(0, completion - 1) : 0,
        text: 'Sunny and mild, around twenty degrees.',
        tool: false,
        stall: false,
        hold: false,
        failPrimary: false,
        json: false,
        repair: false,
        ...extra,
      };
      scripts.set(script.id, script);
      return script;
    };
    // Three questions asked again and again of the cached group: the same request, the same answer.
    const cachedScripts = [newScript(), newScript(), newScript()];

    const chatMessages = (s: Script) => [{ role: 'user' as const, content: `[[s:${s.id}]] Question ${s.id}: what is the weather like in Paris today? Keep it short.` }];
    const extractMessages = (s: Script) => [{ role: 'user' as const, content: `Which city is this about? [[s:${s.id}]] Report ${s.id}: we walked along the Seine to the Louvre.` }];
    const promptMessages = (s: Script) => [
      { role: 'system' as const, content: PROMPT_SYSTEM },
      { role: 'user' as const, content: `Notes: [[s:${s.id}]] notes ${s.id}, the team shipped the release on time and everyone is happy.` },
    ];
    let n = 0;
    /** `reachesUpstream`: a call that surely reaches a fake (no cache, no tight budget, no stall). */
    const planOf = (phase: Plan['phase'], options: { reachesUpstream?: boolean } = {}): Plan => {
      const r = rand();
      const key = options.reachesUpstream ? pickKey(generous) : pickKey();
      const base = { n: n++, phase, key, tools: false };
      const three: Group[] = ['gpt', 'claude', 'gem'];
      let plan: Plan;
      if (r < 0.12 && !options.reachesUpstream) {
        const script = pick(cachedScripts);
        plan = { ...base, kind: pick(['sdk', 'sdk-stream', 'raw', 'raw-stream'] as const), group: 'cached', script, counted: chatMessages(script) };
      } else if (r < 0.25) {
        const script = newScript({ failPrimary: rand() < 0.5 });
        plan = { ...base, kind: pick(['sdk', 'sdk-stream', 'raw'] as const), group: 'flaky', script, counted: chatMessages(script) };
      } else if (r < 0.31) {
        const script = newScript();
        plan = { ...base, kind: pick(['prompt', 'prompt-stream'] as const), group: 'claude', script, counted: promptMessages(script) };
      } else if (r < 0.35) {
        // JSON prompts on the generous keys only: a repair bills two legs against one leg's reservation.
        const script = newScript({ json: true, repair: rand() < 0.5 });
        plan = { ...base, key: pickKey(generous), kind: 'prompt-json', group: 'gpt', script, counted: extractMessages(script) };
      } else if (r < 0.46 && !options.reachesUpstream) {
        const script = newScript({ stall: true });
        plan = { ...base, kind: pick(['sdk-cut', 'raw-cut'] as const), group: pick(three), script, counted: chatMessages(script) };
      } else if (r < 0.58) {
        const script = newScript({ tool: true });
        plan = { ...base, kind: pick(['sdk', 'sdk-stream', 'raw'] as const), group: pick(three), script, counted: chatMessages(script), tools: true };
      } else {
        const script = newScript();
        plan = { ...base, kind: pick(['sdk', 'sdk-stream', 'raw', 'raw-stream'] as const), group: pick(three), script, counted: chatMessages(script) };
      }
      // A reported prompt never exceeds what admission counted, so no call costs more than it reserved.
      expect(countMessageTokens(plan.counted)).toBeGreaterThanOrEqual(plan.script.usage.prompt);
      return plan;
    };

    const sent: Sent[] = [];
    const inFlight = [new Set<Promise<unknown>>(), new Set<Promise<unknown>>()];
    const send = async (plan: Plan, gw: number): Promise<Sent> => {
      const running = perform(plan, gws[gw]!.url);
      inFlight[gw]!.add(running);
      try {
        const done: Sent = { ...plan, gw, outcome: await running };
        sent.push(done);
        return done;
      } finally {
        inFlight[gw]!.delete(running);
      }
    };
    const load = (count: number, phase: Plan['phase'], instanceOf: (i: number) => number, concurrency = 6) =>
      pool(
        Array.from({ length: count }, (_, i) => {
          const plan = planOf(phase);
          return () => send(plan, instanceOf(i));
        }),
        concurrency,
      );
    const alternate = (i: number) => i % 2;
    const startedAt = Date.now();

    // 1. Mixed load on both instances.
    await load(90, 'load', alternate);

    // 2. Calls in flight (admitted, held by the fakes) when Redis is SIGKILLed; they finish while it is down.
    const heldPlans = Array.from({ length: 8 }, () => {
      const plan = planOf('held', { reachesUpstream: true });
      plan.script.hold = true;
      return plan;
    });
    const heldCalls = heldPlans.map((plan, i) => send(plan, i % 2));
    await eventually(async () => {
      const seen = seenUpstream(fakes);
      expect(heldPlans.filter((p) => seen.has(p.script.id))).toHaveLength(heldPlans.length);
    });
    await redis.kill();
    releaseHeld();
    // Keyed calls while Redis is gone (a second or two: each waits for the client to give up on
    // Redis): 503, and they must leave no trace. A fixed count keeps the seeded plans repeatable.
    for (let round = 0; round < 2; round++) {
      await Promise.all(Array.from({ length: 5 }, (_, i) => send(planOf('outage', { reachesUpstream: true }), i % 2)));
    }
    await Promise.all(heldCalls);
    // What the held calls cost cannot be settled yet: it waits in the instances' outboxes.
    expect(gws.reduce((sum, g) => sum + g.app.gateway.access.pendingSettlements(), 0)).toBeGreaterThanOrEqual(heldPlans.length);
    await redis.start();
    await eventually(async () => {
      for (const gw of gws) {
        const health = (await (await fetch(`${gw.url}/health`)).json()) as { store: { status: string } };
        expect(health.store.status).not.toBe('down');
      }
    }, 200);

    // 3. Instance 0 closes and starts again (same spool dir) while instance 1 carries the load.
    const onOne = load(30, 'restart', () => 1, 4);
    await Promise.all([...inFlight[0]!]);
    await gws[0]!.close();
    gws[0] = await startGateway(config());
    await onOne;

    // 4. Mixed load on both again.
    await load(70, 'load', alternate);
    const loadEndedAt = Date.now();

    // ---- what the clients saw ----
    const problems: string[] = [];
    const say = (s: Sent, what: string) => problems.push(`#${s.n} ${s.phase} ${s.kind} ${s.group} key=${s.key.name} gw=${s.gw} script=${s.script.id}: ${what}`);
    for (const s of sent) {
      const o = s.outcome;
      if (!o.callId) say(s, `no x-request-id (status ${o.status})`);
      if (s.phase === 'outage') {
        if (o.status !== 503) say(s, `status ${o.status} while Redis was down, expected 503`);
        continue;
      }
      if (o.status === 429) {
        if (o.code !== 'insufficient_quota') say(s, `429 with code ${o.code}`);
        if (s.key.name !== 'tight') say(s, 'a generous key was refused');
        continue;
      }
      if (o.status !== 200) {
        say(s, `status ${o.status} (${o.code})`);
        continue;
      }
      const isCut = s.kind === 'sdk-cut' || s.kind === 'raw-cut';
      if (isCut !== o.cut) say(s, `cut=${o.cut}`);
      if (isCut) continue;
      if (o.done === false) say(s, 'stream ended without [DONE]');
      const want = billedUsage(s.script);
      if (!o.usage || o.usage.prompt !== want.prompt || o.usage.completion !== want.completion || (o.usage.cached !== undefined && o.usage.cached !== want.cached)) {
        say(s, `client saw usage ${JSON.stringify(o.usage)}, the fake reported ${JSON.stringify(want)}`);
      }
    }

    // ---- the ledger, once every record and settlement has landed ----
    const gw = gws[1]!;
    const callIds = sent.map((s) => s.outcome.callId).filter((id): id is string => id !== null);
    let records: LogRecord[] = [];
    const probe = new Redis(redis.url);
    try {
      const spendOf = async (path: string) => nano(((await admin(gw.url, 'GET', path)).body as { spend_usd: number }).spend_usd);
      const reservedOf = async (scope: string) => ({ sum: Number((await probe.get(`${PREFIX}resv:${scope}:sum`)) ?? 0), held: await probe.hlen(`${PREFIX}resv:${scope}`) });
      await eventually(async () => {
        const logs = await admin<{ records: LogRecord[] }>(gw.url, 'GET', '/admin/logs?limit=1000');
        expect(logs.status).toBe(200);
        records = logs.body.records;
        expect(records.length).toBe(callIds.length);
        for (const g of gws) expect(g.app.gateway.access.pendingSettlements()).toBe(0);
        for (const k of keys) {
          const ledger = records.filter((r) => r.key_id === k.id).reduce((sum, r) => sum + nano(r.cost_usd), 0);
          expect(await spendOf(`/admin/keys/${k.id}`), `spend of key ${k.name}`).toBe(ledger);
          expect(await reservedOf(`k:${k.id}`), `reserved for key ${k.name}`).toEqual({ sum: 0, held: 0 });
        }
        for (const team of Object.keys(teams)) {
          const ledger = records.filter((r) => r.team === team).reduce((sum, r) => sum + nano(r.cost_usd), 0);
          expect(await spendOf(`/admin/teams/${team}`), `spend of team ${team}`).toBe(ledger);
          expect(await reservedOf(`t:${team}`), `reserved for team ${team}`).toEqual({ sum: 0, held: 0 });
        }
      }, 300);

      // Each call exactly once.
      const ids = records.map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual([...callIds].sort());
      const byId = new Map(records.map((r) => [r.id, r]));
      const upstreamSaw = seenUpstream(fakes);

      // Every record costs its tokens at its deployment's price.
      for (const r of records) {
        if (r.provider === null) {
          if (nano(r.cost_usd) !== 0 || r.prompt_tokens + r.completion_tokens !== 0) problems.push(`record ${r.id} (status ${r.status}) has no provider but costs ${r.cost_usd}`);
          continue;
        }
        if (!(r.provider in PRICES)) {
          problems.push(`record ${r.id}: unknown provider ${r.provider}`);
          continue;
        }
        const want = expectedCostNano(r.provider as ProviderName, r.prompt_tokens, r.completion_tokens, r.cached_tokens);
        if (nano(r.cost_usd) !== want) problems.push(`record ${r.id} (${r.provider}, ${r.prompt_tokens}/${r.completion_tokens}/${r.cached_tokens} tokens): cost ${nano(r.cost_usd)} nano, expected ${want}`);
        if (!r.price_known) problems.push(`record ${r.id}: price_known false`);
      }

      // Every call's record says what happened to it.
      for (const s of sent) {
        const r = s.outcome.callId ? byId.get(s.outcome.callId) : undefined;
        if (!r) continue; // reported above (count and ids)
        const o = s.outcome;
        const cost = nano(r.cost_usd);
        const tokens = r.prompt_tokens + r.completion_tokens;
        if (r.key_id !== null && r.key_id !== s.key.id) say(s, `record billed to ${r.key_id}`);
        if (o.status === 503 || o.status === 429) {
          if (r.status !== o.status) say(s, `record status ${r.status}, client got ${o.status}`);
          if (cost !== 0 || tokens !== 0) say(s, `refused call billed ${tokens} tokens, ${cost} nano`);
          continue;
        }
        if (o.status !== 200) continue;
        if (r.key_id !== s.key.id || r.team !== s.key.team) say(s, `record key ${r.key_id} team ${r.team}`);
        if (o.cut) {
          // Billed for what was produced, counted: not the fake's numbers, but never nothing.
          if (r.status !== 499 || r.usage_source !== 'estimated' || r.prompt_tokens <= 0) {
            say(s, `cut stream recorded status ${r.status}, ${r.usage_source}, ${r.prompt_tokens} prompt tokens`);
          }
        } else if (o.cache === 'hit') {
          if (!r.cache_hit || tokens !== 0 || cost !== 0) say(s, `cache hit recorded cache_hit=${r.cache_hit}, ${tokens} tokens, ${cost} nano`);
        } else {
          const want = billedUsage(s.script);
          const got = { prompt: r.prompt_tokens, completion: r.completion_tokens, cached: r.cached_tokens };
          if (r.status !== 200 || r.usage_source !== 'reported' || JSON.stringify(got) !== JSON.stringify(want)) {
            say(s, `record ${r.status} ${r.usage_source} ${JSON.stringify(got)}, the fake reported ${JSON.stringify(want)}`);
          }
          if (o.attempts !== undefined && r.attempts !== o.attempts) say(s, `record attempts ${r.attempts}, header ${o.attempts}`);
          const upstream = r.provider === 'gemini' ? r.upstream_model?.startsWith(UPSTREAM_MODEL.gemini) : r.upstream_model === UPSTREAM_MODEL[r.provider as ProviderName];
          if (!upstream) say(s, `record provider ${r.provider} upstream model ${r.upstream_model}`);
          if (s.group === 'flaky' && s.script.failPrimary && r.provider !== 'oa-backup') say(s, `a failed primary answered (${r.provider})`);
        }
        if (o.costNano !== undefined && o.costNano !== cost) say(s, `x-gateway-cost-usd says ${o.costNano} nano, the record ${cost}`);
        if (!o.cut && o.cache !== 'hit' && !upstreamSaw.has(s.script.id)) say(s, 'billed as answered, but no fake received its request');
        // No call costs more than admission reserved for it.
        const reserved = reservationNano(s.group, countMessageTokens(s.counted), s.script.json);
        if (cost > reserved) say(s, `cost ${cost} nano above its reservation ${reserved}`);
      }

      // Budgets hold, and the aggregates agree with the request log.
      for (const k of keys) {
        const spend = await spendOf(`/admin/keys/${k.id}`);
        if (spend > k.budgetNano) problems.push(`key ${k.name} spent ${spend} nano of a ${k.budgetNano} budget`);
      }
      for (const [team, budget] of Object.entries(teams)) {
        const spend = await spendOf(`/admin/teams/${team}`);
        if (spend > nano(budget)) problems.push(`team ${team} spent ${spend} nano of a ${nano(budget)} budget`);
      }
      const usage = await admin<{ rows: Array<{ key: string | null; requests: number; prompt_tokens: number; completion_tokens: number; cached_tokens: number; cost_usd: number }> }>(
        gw.url,
        'GET',
        '/admin/usage?group_by=key',
      );
      expect(usage.status).toBe(200);
      for (const row of usage.body.rows) {
        const mine = records.filter((r) => r.key_id === row.key);
        const sum = (f: (r: LogRecord) => number) => mine.reduce((total, r) => total + f(r), 0);
        const fromLog = {
          requests: mine.length,
          prompt_tokens: sum((r) => r.prompt_tokens),
          completion_tokens: sum((r) => r.completion_tokens),
          cached_tokens: sum((r) => r.cached_tokens),
          cost: sum((r) => nano(r.cost_usd)),
        };
        const fromAggregates = { requests: row.requests, prompt_tokens: row.prompt_tokens, completion_tokens: row.completion_tokens, cached_tokens: row.cached_tokens, cost: nano(row.cost_usd) };
        if (JSON.stringify(fromLog) !== JSON.stringify(fromAggregates)) problems.push(`usage of key ${row.key}: aggregates ${JSON.stringify(fromAggregates)}, log ${JSON.stringify(fromLog)}`);
      }

      // The rate windows (one 60 s window spans the run) hold exactly what admitted calls used:
      // refused calls (budget, Redis down) count nothing, estimates were replaced by real tokens.
      if (Date.now() - startedAt < 55_000) {
        const windowOf = async (scope: string) => ({
          requests: Number((await probe.get(`${PREFIX}rl:${scope}:r`)) ?? 0),
          tokens: Number((await probe.get(`${PREFIX}rl:${scope}:t`)) ?? 0),
        });
        const admittedOf = (mine: LogRecord[]) => ({
          requests: mine.filter((r) => r.status !== 429 && r.status !== 503).length,
          tokens: mine.reduce((sum, r) => sum + r.prompt_tokens + r.completion_tokens, 0),
        });
        for (const k of keys) {
          const want = admittedOf(records.filter((r) => r.key_id === k.id));
          const got = await windowOf(`k:${k.id}`);
          if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`rate window of key ${k.name}: ${JSON.stringify(got)}, admitted calls used ${JSON.stringify(want)}`);
        }
        for (const team of Object.keys(teams)) {
          const want = admittedOf(records.filter((r) => r.team === team));
          const got = await windowOf(`t:${team}`);
          if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`rate window of team ${team}: ${JSON.stringify(got)}, admitted calls used ${JSON.stringify(want)}`);
        }
      }
    } finally {
      probe.disconnect();
    }

    // The run exercised what it claims to.
    const count = (f: (s: Sent) => boolean) => sent.filter(f).length;
    const summary = {
      calls: sent.length,
      ms: loadEndedAt - startedAt,
      ok: count((s) => s.outcome.status === 200 && !s.outcome.cut),
      cut: count((s) => s.outcome.cut),
      cacheHits: count((s) => s.outcome.cache === 'hit'),
      budgetRefusals: count((s) => s.outcome.status === 429),
      outage503: count((s) => s.outcome.status === 503),
      retried: records.filter((r) => r.attempts > 1 && r.status === 200).length,
      prompts: count((s) => s.kind.startsWith('prompt') && s.outcome.status === 200),
      repairs: count((s) => s.script.repair && s.outcome.status === 200),
      tools: count((s) => s.tools && s.outcome.status === 200),
    };
    expect(summary.cut).toBeGreaterThan(0);
    expect(summary.cacheHits).toBeGreaterThan(0);
    expect(summary.budgetRefusals).toBeGreaterThan(0);
    expect(summary.outage503).toBeGreaterThan(0);
    expect(summary.retried).toBeGreaterThan(0);
    expect(summary.prompts).toBeGreaterThan(0);
    expect(summary.repairs).toBeGreaterThan(0);
    expect(summary.tools).toBeGreaterThan(0);
    expect(count((s) => s.phase === 'held' && s.outcome.status === 200)).toBe(heldPlans.length);
    expect(problems).toEqual([]);
  });

  it('keeps a JSON prompt that needs a repair within the budget it was admitted under', async () => {
    // Admission reserves both upstream calls a JSON prompt may make: the first, and one repair.
    const gw = gws[1]!;
    const messages = [{ role: 'user' as const, content: 'Which city is this about? [[s:900001]] Report: we walked along the Seine to the Louvre.' }];
    const counted = countMessageTokens(messages);
    const reserved = reservationNano('gpt', counted, true);
    // Each upstream call uses no more than admission assumed for the call: the counted prompt, max_tokens.
    const script: Script = {
      id: 900001,
      usage: { prompt: counted, completion: MAX_TOKENS, cached: 0 },
      cacheWrites: 0,
      thoughts: 0,
      text: '',
      tool: false,
      stall: false,
      hold: false,
      failPrimary: false,
      json: true,
      repair: true,
    };
    scripts.set(script.id, script);
    const { id, key } = await createKey(gw.url, { name: 'repair', budget_usd: reserved / 1e9 });
    const res = await fetch(`${gw.url}/prompts/extract`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: messages[0]!.content.slice('Which city is this about? '.length) }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { output: unknown }).output).toEqual(TOOL);
    let spend = 0;
    await eventually(async () => {
      const logs = await admin<{ records: LogRecord[] }>(gw.url, 'GET', `/admin/logs?key=${id}`);
      expect(logs.body.records).toHaveLength(1);
      spend = nano(((await admin(gw.url, 'GET', `/admin/keys/${id}`)).body as { spend_usd: number }).spend_usd);
      expect(spend).toBe(nano(logs.body.records[0]!.cost_usd));
    });
    expect(spend, `spent ${spend} nano on a budget of ${reserved} nano (the one call reserved ${reserved})`).toBeLessThanOrEqual(reserved);
  });
});
