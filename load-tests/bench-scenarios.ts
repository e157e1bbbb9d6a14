/**
 * What `npm run bench` measures: the scenarios (which process, which request, compared with
 * what) and the CPU ratios the gateway is held to. bench.ts starts the processes and runs them.
 */
export interface Scenario {
  name: string;
  /** Which process answers: the direct upstream, nginx, the floor proxy or a gateway instance. */
  target: 'direct' | 'nginx' | 'floor' | GatewayName;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** The direct scenario this one is compared with. */
  baseline?: string;
}

/** gateway: memory ledger, no keys; gateway-redis: Redis ledger, no keys; gateway-keys: Redis ledger + a key with limits and a budget. */
export type GatewayName = 'gateway' | 'gateway-redis' | 'gateway-keys' | 'gateway-traced';

export interface Result {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Mean latency, ms (autocannon's percentiles are whole ms; the mean shows sub-ms overhead). */
  mean: number;
  errors: number;
  non2xx: number;
  cpuUsPerRequest?: number;
  overheadRatio?: number;
  addedP50Ms?: number;
  addedMeanMs?: number;
}

/** One slice of a scenario: what autocannon and /proc said about `seconds` of it. */
export interface Slice {
  requests: number;
  seconds: number;
  /** CPU the measured process used in the slice; undefined for direct and nginx. */
  cpuUs: number | undefined;
  p50: number;
  p99: number;
  mean: number;
  errors: number;
  non2xx: number;
}

/**
 * A scenario's result over its slices: CPU and requests summed (so the ratio is CPU over all
 * of them, not a mean of ratios), the mean weighted by requests, p50 the slices' median p50 and
 * p99 the worst slice's (autocannon reports percentiles per run; these bound the true ones).
 */
export function combineSlices(name: string, slices: readonly Slice[]): Result {
  const requests = slices.reduce((sum, s) => sum + s.requests, 0);
  const seconds = slices.reduce((sum, s) => sum + s.seconds, 0);
  const p50s = slices.map((s) => s.p50).sort((a, b) => a - b);
  const result: Result = {
    name,
    requests,
    rps: seconds > 0 ? requests / seconds : 0,
    p50: p50s[Math.floor((p50s.length - 1) / 2)] ?? 0,
    p99: Math.max(0, ...slices.map((s) => s.p99)),
    mean: requests > 0 ? slices.reduce((sum, s) => sum + s.mean * s.requests, 0) / requests : 0,
    errors: slices.reduce((sum, s) => sum + s.errors, 0),
    non2xx: slices.reduce((sum, s) => sum + s.non2xx, 0),
  };
  const cpu = slices.every((s) => s.cpuUs !== undefined) ? slices.reduce((sum, s) => sum + s.cpuUs!, 0) : undefined;
  if (cpu !== undefined && requests > 0) result.cpuUsPerRequest = cpu / requests;
  return result;
}

export const chatBody = { model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] };
export const directChat = { ...chatBody, model: 'bench-model' };
/** `store: false`: a stored response per request would measure the response store's growth, not the route. */
const responsesBody = { model: 'bench', input: 'Say something about foxes.', store: false };
const messagesBody = { model: 'bench', max_tokens: 256, messages: [{ role: 'user', content: 'Say something about foxes.' }] };
/** Deterministic, so cacheable; `cache-control: no-cache` makes every call a miss that refreshes the entry. */
const cachedChat = { ...chatBody, model: 'bench-cached', temperature: 0 };

/**
 * `only`: the `--only` names (a scenario runs when its name contains one of them).
 *
 * The order is the order of every round, and the two sides of each ratio with a target run
 * back to back (floor then gateway; plain, Redis ledger, keys): this box's speed drifts within
 * seconds, and a ratio over two slices taken a minute apart carries that drift.
 */
export function scenarios(key: string | undefined, hasNginx: boolean, hasFloor: boolean, only?: string[]): Scenario[] {
  const keys: Scenario[] = key
    ? [
        {
          name: 'gateway redis+keys+limits+budget',
          target: 'gateway-keys',
          method: 'POST',
          path: '/v1/chat/completions',
          body: chatBody,
          headers: { authorization: `Bearer ${key}` },
          baseline: 'direct plain',
        },
      ]
    : [];
  const list: Scenario[] = [
    { name: 'direct plain', target: 'direct', method: 'POST', path: '/v1/chat/completions', body: directChat },
    { name: 'floor plain', target: 'floor', method: 'POST', path: '/v1/chat/completions', body: directChat, baseline: 'direct plain' },
    { name: 'gateway plain', target: 'gateway', method: 'POST', path: '/v1/chat/completions', body: chatBody, baseline: 'direct plain' },
    { name: 'gateway redis ledger', target: 'gateway-redis', method: 'POST', path: '/v1/chat/completions', body: chatBody, baseline: 'direct plain' },
    ...keys,
    { name: 'direct stream', target: 'direct', method: 'POST', path: '/v1/chat/completions', body: { ...directChat, stream: true } },
    { name: 'floor stream', target: 'floor', method: 'POST', path: '/v1/chat/completions', body: { ...directChat, stream: true }, baseline: 'direct stream' },
    { name: 'gateway stream', target: 'gateway', method: 'POST', path: '/v1/chat/completions', body: { ...chatBody, stream: true }, baseline: 'direct stream' },
    // The other client APIs over the same upstream: what translating the body and the answer costs.
    { name: 'gateway responses plain', target: 'gateway', method: 'POST', path: '/v1/responses', body: responsesBody, baseline: 'direct plain' },
    { name: 'gateway responses stream', target: 'gateway', method: 'POST', path: '/v1/responses', body: { ...responsesBody, stream: true }, baseline: 'direct stream' },
    { name: 'gateway messages plain', target: 'gateway', method: 'POST', path: '/v1/messages', body: messagesBody, baseline: 'direct plain' },
    { name: 'gateway messages stream', target: 'gateway', method: 'POST', path: '/v1/messages', body: { ...messagesBody, stream: true }, baseline: 'direct stream' },
    { name: 'gateway traced plain', target: 'gateway-traced', method: 'POST', path: '/v1/chat/completions', body: chatBody, baseline: 'direct plain' },
    { name: 'gateway traced stream', target: 'gateway-traced', method: 'POST', path: '/v1/chat/completions', body: { ...chatBody, stream: true }, baseline: 'direct stream' },
    { name: 'gateway 3 deployments', target: 'gateway', method: 'POST', path: '/v1/chat/completions', body: { ...chatBody, model: 'bench-3' }, baseline: 'direct plain' },
    { name: 'gateway prompt API', target: 'gateway', method: 'POST', path: '/prompts/bench-echo', body: { text: 'Say something about foxes.' }, baseline: 'direct plain' },
    { name: 'gateway cache miss', target: 'gateway', method: 'POST', path: '/v1/chat/completions', body: cachedChat, headers: { 'cache-control': 'no-cache' }, baseline: 'direct plain' },
    { name: 'gateway cache hit', target: 'gateway', method: 'POST', path: '/v1/chat/completions', body: cachedChat, baseline: 'direct plain' },
    { name: 'gateway redis cache hit', target: 'gateway-redis', method: 'POST', path: '/v1/chat/completions', body: cachedChat, baseline: 'direct plain' },
    { name: 'direct rest', target: 'direct', method: 'GET', path: '/42' },
    { name: 'floor rest', target: 'floor', method: 'GET', path: '/42', baseline: 'direct rest' },
    { name: 'gateway rest', target: 'gateway', method: 'GET', path: '/api/users/42', baseline: 'direct rest' },
  ];
  if (hasNginx) list.push({ name: 'nginx rest', target: 'nginx', method: 'GET', path: '/42', baseline: 'direct rest' });
  const available = list.filter((s) => hasFloor || s.target !== 'floor');
  return only ? available.filter((s) => only.some((o) => s.name.includes(o))) : available;
}

export interface Ratio {
  name: string;
  /** CPU µs per request of `of` ÷ that of `over`. */
  of: string;
  over: string;
  /** The ratio the gateway aims to stay under; undefined: shown for information. */
  target?: number;
  value?: number;
  /** The lowest and highest ratio of one round's slices, when both scenarios ran in every round. */
  spread?: [number, number];
}

/** The ratios the gateway is held to, on CPU µs per request (the column that does not depend on who else uses the cores). */
const RATIOS: Ratio[] = [
  { name: 'gateway plain ÷ floor plain', of: 'gateway plain', over: 'floor plain', target: 1.5 },
  { name: 'gateway stream ÷ floor stream', of: 'gateway stream', over: 'floor stream', target: 2 },
  { name: 'Redis ledger ÷ gateway plain', of: 'gateway redis ledger', over: 'gateway plain', target: 1.1 },
  // Keys, limits and budgets shared by instances live in Redis: their own cost is measured over the Redis gateway.
  { name: 'keys+limits+budget ÷ Redis ledger', of: 'gateway redis+keys+limits+budget', over: 'gateway redis ledger', target: 1.15 },
  { name: 'keys+limits+budget ÷ gateway plain', of: 'gateway redis+keys+limits+budget', over: 'gateway plain' },
  { name: 'responses ÷ chat, plain', of: 'gateway responses plain', over: 'gateway plain' },
  { name: 'responses ÷ chat, stream', of: 'gateway responses stream', over: 'gateway stream' },
  { name: 'messages ÷ chat, plain', of: 'gateway messages plain', over: 'gateway plain' },
  { name: 'messages ÷ chat, stream', of: 'gateway messages stream', over: 'gateway stream' },
  { name: 'tracing on ÷ off, plain', of: 'gateway traced plain', over: 'gateway plain' },
  { name: 'tracing on ÷ off, stream', of: 'gateway traced stream', over: 'gateway stream' },
  { name: 'gateway REST ÷ floor rest', of: 'gateway rest', over: 'floor rest', target: 1.1 },
  { name: 'cache hit ÷ floor plain', of: 'gateway cache hit', over: 'floor plain' },
  { name: 'Redis cache hit ÷ floor plain', of: 'gateway redis cache hit', over: 'floor plain' },
];

/**
 * The ratios over all slices (`value`), and with `slices` (each scenario's, in round order) how
 * far one round's ratio strayed from it (`spread`): how much of a verdict this box's noise moves.
 */
export function ratios(results: Result[], slices?: ReadonlyMap<string, readonly Slice[]>): Ratio[] {
  const cpu = (name: string) => results.find((r) => r.name === name)?.cpuUsPerRequest;
  return RATIOS.map((ratio) => {
    const of = cpu(ratio.of);
    const over = cpu(ratio.over);
    if (of === undefined || over === undefined || over <= 0) return { ...ratio };
    const spread = slices ? roundSpread(slices.get(ratio.of), slices.get(ratio.over)) : undefined;
    return spread ? { ...ratio, value: of / over, spread } : { ...ratio, value: of / over };
  });
}

function perRequest(slice: Slice): number | undefined {
  return slice.cpuUs === undefined || slice.requests === 0 ? undefined : slice.cpuUs / slice.requests;
}

/** Min and max over rounds of (CPU per request of `of`'s slice) ÷ (that of `over`'s slice in the same round). */
function roundSpread(of: readonly Slice[] | undefined, over: readonly Slice[] | undefined): [number, number] | undefined {
  if (!of || !over || of.length !== over.length || of.length === 0) return undefined;
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < of.length; i++) {
    const a = perRequest(of[i]!);
    const b = perRequest(over[i]!);
    if (a === undefined || b === undefined || b === 0) return undefined;
    low = Math.min(low, a / b);
    high = Math.max(high, a / b);
  }
  return [low, high];
}

/** The memory targets: the plain gateway's settled idle RSS and its peak over the floor's. */
export function rssRatios(idleKb: Record<string, number>, peakKb: Record<string, number>): Ratio[] {
  const over = (kb: Record<string, number>) => (kb.gateway !== undefined && kb.floor ? kb.gateway / kb.floor : undefined);
  return [
    { name: 'gateway idle RSS ÷ floor idle RSS', of: 'gateway', over: 'floor', target: 1.3, value: over(idleKb) },
    { name: 'gateway peak RSS ÷ floor peak RSS', of: 'gateway', over: 'floor', target: 1.3, value: over(peakKb) },
  ];
}
