/**
 * `npm run bench`: the gateway against a direct call to the same fake upstream, in one run.
 *
 * It starts a fake OpenAI-compatible upstream, gateway instances and the floor (a bare Fastify +
 * `@fastify/reply-from` pass-through of the same upstream, load-tests/floor-proxy.ts) as child
 * processes on 127.0.0.1, drives them with autocannon from this process, and prints requests/s,
 * p50/p99, the overhead against direct, and each proxy's CPU time per request (from /proc,
 * because on a 2-core box the load generator and the upstream compete with the gateway, so
 * requests/s alone misleads); then the gateway's CPU per request as ratios to the floor (and of
 * its Redis and keys/limits/budget instances to its plain one) against their targets, and idle
 * and peak RSS of the gateway and the floor.
 *
 * Flags: --duration <s> per scenario (default 8), --rounds <n> (default 4: each scenario runs in
 * n slices of duration/n, one slice of every scenario per round), --connections <n> (default 10),
 * --only <name,...>, --json <file>, --soak <s> (one long plain-chat run reporting RSS drift).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { chatBody, combineSlices, directChat, ratios, rssRatios, scenarios, type GatewayName, type Ratio, type Result, type Scenario, type Slice } from './bench-scenarios.js';
import { findNginx, startNginx, type RunningNginx } from './nginx.js';
import { dropKeys } from './redis-cleanup.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '10' },
    only: { type: 'string' },
    json: { type: 'string' },
    soak: { type: 'string' },
    'redis-url': { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
  },
});
const duration = Number(args.duration);
const rounds = Math.max(1, Math.floor(Number(args.rounds)));
const connections = Number(args.connections);
const CLK_TCK = 100; // Linux USER_HZ: /proc times are in 1/100 s.
const MASTER_KEY = 'bench-master-key';
/**
 * How long a process is left alone before its idle RSS is read. V8 keeps the heap that start-up
 * grew (module loading, schema compilation) until its memory reducer runs, about 8 s after the
 * first full GC when nothing is allocating; idle is what an operator sees after that.
 */
const IDLE_SETTLE_MS = 12_000;
/** When the last process the bench started was ready. */
let lastStart = Date.now();
/**
 * Node flags for the gateway processes only (the floor runs on Node's defaults): by default the
 * ones `npm run start:prod` runs the gateway with, so the bench measures what operators run.
 */
const GATEWAY_NODE_FLAGS = (process.env.GATEWAY_NODE_FLAGS ?? productionNodeFlags()).split(' ').filter(Boolean);

/** The `--flags` of package.json's `start:prod`, before the script it starts. */
function productionNodeFlags(): string {
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
  return (scripts['start:prod'] ?? '')
    .split(' ')
    .filter((word) => word.startsWith('--'))
    .join(' ');
}

function startChild(cmd: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cmd, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (data: Buffer) => {
      out += data.toString();
      const match = out.match(ready);
      if (match) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        lastStart = Date.now();
        resolve({ child, match });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => reject(new Error(`${cmd.join(' ')} exited (${code}):\n${out.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`${cmd.join(' ')} did not start:\n${out.slice(-2000)}`)), 20_000).unref();
  });
}

function build(): void {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('the TypeScript build failed');
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the full line, 12 and 13 after "pid (comm) ".
  return Number(fields[11]) + Number(fields[12]);
}

function rssKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0);
}

const BENCH_PROMPT = `name: bench-echo
description: A one-variable prompt for the benchmark
model: bench
input: { type: object, required: [text], properties: { text: { type: string } } }
messages:
  - { role: user, content: "Echo: {{text}}" }
`;

function gatewayConfig(name: GatewayName, upstream: string, redisUrl: string | undefined, prefix: string, promptsDir: string): string {
  return JSON.stringify({
    server: { host: '127.0.0.1', port: 0, log_level: 'warn' },
    store: { redis_url: redisUrl ?? '', key_prefix: prefix },
    auth: { master_key: MASTER_KEY, require_keys: name === 'gateway-keys' },
    prompts: { dir: promptsDir },
    providers: { upstream: { type: 'openai-compatible', base_url: `${upstream}/v1`, api_key: 'bench' } },
    models: [
      { name: 'bench', deployments: [{ provider: 'upstream', model: 'bench-model', price: { input: 0.15, output: 0.6 } }] },
      {
        name: 'bench-3',
        strategy: 'weighted',
        deployments: [1, 2, 3].map((w) => ({ provider: 'upstream', model: 'bench-model', weight: w, price: { input: 0.15, output: 0.6 } })),
      },
      { name: 'bench-cached', cache: { ttl_s: 3600 }, deployments: [{ provider: 'upstream', model: 'bench-model', price: { input: 0.15, output: 0.6 } }] },
    ],
    services: [{ name: 'users', prefix: '/api/users', targets: [{ url: upstream }] }],
  });
}

async function startGateway(name: GatewayName, upstream: string, dir: string): Promise<{ child: ChildProcess; url: string }> {
  const redisUrl = name === 'gateway' || name === 'gateway-traced' ? undefined : args['redis-url'];
  const file = join(dir, `${name}.json`);
  const promptsDir = join(dir, 'prompts');
  mkdirSync(promptsDir, { recursive: true });
  writeFileSync(join(promptsDir, 'bench-echo.yaml'), BENCH_PROMPT);
  writeFileSync(file, gatewayConfig(name, upstream, redisUrl, `bench:${process.pid}:${name}:`, promptsDir));
  // The traced instance exports every span to a collector that only acknowledges (see startOtlpSink).
  const tracing = name === 'gateway-traced' && otlpSink ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlpSink } : { OTEL_SDK_DISABLED: 'true' };
  const { child, match } = await startChild([...GATEWAY_NODE_FLAGS, 'dist/src/server.js'], { GATEWAY_CONFIG: file, PORT: '0', ...tracing }, /listening at (http:\/\/127\.0\.0\.1:\d+)/);
  return { child, url: match[1]! };
}

/** Where the traced gateway sends OTLP: set once the sink listens. */
let otlpSink: string | undefined;

/** An OTLP/HTTP endpoint that reads and acknowledges every export, so tracing costs what exporting costs. */
function startOtlpSink(): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() }));
  });
}

async function createKey(url: string): Promise<string | undefined> {
  const res = await fetch(`${url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', rpm: 10_000_000, tpm: 1_000_000_000, budget_usd: 1_000_000 }),
  }).catch(() => undefined);
  if (!res?.ok) return undefined;
  return ((await res.json()) as { key: string }).key;
}

function run(url: string, scenario: Scenario, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: url + scenario.path,
        method: scenario.method,
        connections,
        duration: seconds,
        body: scenario.body === undefined ? undefined : JSON.stringify(scenario.body),
        headers: { 'content-type': 'application/json', ...scenario.headers },
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

/** A bare Fastify + reply-from pass-through of the upstream: what any Node proxy costs at least. */
async function startFloor(upstream: string): Promise<{ child: ChildProcess; url: string }> {
  const { child, match } = await startChild(['dist/load-tests/floor-proxy.js', upstream], {}, /floor listening at (http:\/\/127\.0\.0\.1:\d+)/);
  return { child, url: match[1]! };
}

function printRatios(title: string, list: Ratio[]): void {
  const width = Math.max(...list.map((r) => r.name.length));
  console.log(`\n${title} (target: what the gateway aims to stay under):`);
  for (const r of list) {
    const value = r.value === undefined ? 'n/a (scenario skipped)' : `${r.value.toFixed(2)}×`;
    const target = r.target === undefined ? '' : `target ≤ ${r.target}×`;
    const verdict = r.value === undefined || r.target === undefined ? '' : r.value <= r.target ? '✓' : '✗ over';
    const spread = r.spread ? `rounds ${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)}` : '';
    console.log(`  ${r.name.padEnd(width)}  ${value.padStart(6)}  ${target.padEnd(14)} ${verdict.padEnd(6)} ${spread}`.trimEnd());
  }
}

/** RSS in KB per measured process: right after start, settled idle (IDLE_SETTLE_MS) and the high-water mark after every scenario. */
interface RssReadings {
  start: Record<string, number>;
  idle: Record<string, number>;
  peak: Record<string, number>;
}

function printTable(results: Result[], rss: RssReadings, slices: ReadonlyMap<string, readonly Slice[]>): void {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'mean ms', 'errors', 'CPU µs/req', 'req/s ÷ base', '+mean ms'];
  const rows = results.map((r) => [
    r.name,
    r.rps.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.mean.toFixed(2),
    String(r.errors + r.non2xx),
    r.cpuUsPerRequest === undefined ? '' : r.cpuUsPerRequest.toFixed(0),
    r.overheadRatio === undefined ? '' : `${r.overheadRatio.toFixed(2)}x`,
    r.addedMeanMs === undefined ? '' : r.addedMeanMs.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  const rest = results.find((r) => r.name === 'gateway rest');
  const viaNginx = results.find((r) => r.name === 'nginx rest');
  if (rest && viaNginx) console.log(`\nREST routing, gateway/nginx: ${(rest.rps / viaNginx.rps).toFixed(2)} of nginx's req/s`);
  printRatios('gateway CPU µs/req as a ratio', ratios(results, slices));
  printRatios('gateway RSS as a ratio of the floor\'s', rssRatios(rss.idle, rss.peak));
  const mb = (kb: number | undefined) => (kb === undefined ? '?' : (kb / 1024).toFixed(0));
  const names = Object.keys(rss.peak);
  console.log(`\nRSS, MB: right after start → idle (${IDLE_SETTLE_MS / 1000} s after the last start, before load) → peak: ${names.map((k) => `${k} ${mb(rss.start[k])} → ${mb(rss.idle[k])} → ${mb(rss.peak[k])}`).join(', ')}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${connections} connections, ${duration} s per scenario in ${rounds} interleaved rounds; gateway Node flags: ${GATEWAY_NODE_FLAGS.join(' ') || 'none'}`);
}

/** Set once a gateway on Redis started: its keys are deleted at the end. */
let usedRedis = false;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'konnect-bench-'));
  const children: ChildProcess[] = [];
  let nginxStop: (() => Promise<void>) | undefined;
  let closeSink: (() => void) | undefined;
  try {
    // Measure what production runs: the compiled gateway, not the TypeScript loader.
    build();
    const upstream = await startChild(['dist/load-tests/fake-upstream.js'], {}, /port=(\d+)/);
    children.push(upstream.child);
    const upstreamUrl = `http://127.0.0.1:${upstream.match[1]}`;
    const gateways: Partial<Record<GatewayName, { child: ChildProcess; url: string }>> = {};
    gateways.gateway = await startGateway('gateway', upstreamUrl, dir);
    children.push(gateways.gateway.child);
    let key: string | undefined;
    let nginx: RunningNginx | undefined;
    let floor: { child: ChildProcess; url: string } | undefined;
    if (!args.soak) {
      try {
        floor = await startFloor(upstreamUrl);
        children.push(floor.child);
      } catch (err) {
        console.log(`(floor skipped: ${(err as Error).message.split('\n')[0]})`);
      }
      const sink = await startOtlpSink();
      otlpSink = sink.url;
      closeSink = sink.close;
      for (const name of ['gateway-redis', 'gateway-keys', 'gateway-traced'] as const) {
        try {
          gateways[name] = await startGateway(name, upstreamUrl, dir);
          children.push(gateways[name].child);
          if (name !== 'gateway-traced') usedRedis = true;
        } catch (err) {
          console.log(`(${name} skipped: ${(err as Error).message.split('\n')[0]})`);
        }
      }
      if (gateways['gateway-keys']) {
        key = await createKey(gateways['gateway-keys'].url);
        if (!key) console.log('(gateway redis+keys+limits skipped: the admin keys API did not answer)');
      }
      if (findNginx()) {
        nginx = await startNginx(upstreamUrl);
        nginxStop = nginx.stop;
      }
      else console.log('(nginx rest skipped: no nginx binary; apt-get install nginx)');
    }

    if (args.soak) {
      const seconds = Number(args.soak);
      const gw = gateways.gateway;
      const scenario: Scenario = { name: 'soak plain', target: 'gateway', method: 'POST', path: '/v1/chat/completions', body: chatBody };
      await run(gw.url, scenario, 3);
      const startRss = rssKb(gw.child.pid!, 'VmRSS');
      // Samples show whether RSS climbs steadily (a leak) or levels off (caches filling up).
      const samples: number[] = [];
      const sampler = setInterval(() => samples.push(rssKb(gw.child.pid!, 'VmRSS')), 10_000);
      const result = await run(gw.url, scenario, seconds);
      clearInterval(sampler);
      const endRss = rssKb(gw.child.pid!, 'VmRSS');
      console.log(`RSS every 10 s (MB): ${samples.map((kb) => (kb / 1024).toFixed(0)).join(' ')}`);
      // Growth is measured from the first sample, once the heap has sized itself to the load.
      const steady = samples[0] ?? startRss;
      const growth = ((endRss - steady) / steady) * 100;
      console.log(`soak ${seconds} s: ${result.requests.total} requests, ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms`);
      console.log(`gateway RSS after warm-up ${(startRss / 1024).toFixed(1)} MB, after 10 s of load ${(steady / 1024).toFixed(1)} MB, at the end ${(endRss / 1024).toFixed(1)} MB (${growth.toFixed(1)}% since 10 s)`);
      if (args.json) writeFileSync(args.json, JSON.stringify({ seconds, requests: result.requests.total, startRssKb: startRss, steadyRssKb: steady, endRssKb: endRss, samplesKb: samples, growthPercent: growth }, null, 2));
      return;
    }

    const urls: Record<string, string> = { direct: upstreamUrl };
    if (nginx) urls.nginx = nginx.url;
    for (const [name, gw] of Object.entries(gateways)) urls[name] = gw.url;
    /** The processes whose CPU and memory are measured: the gateway instances and the floor. */
    const measured: Record<string, { child: ChildProcess; url: string }> = { ...gateways };
    if (floor) {
      urls.floor = floor.url;
      measured.floor = floor;
    }
    const startRss: Record<string, number> = {};
    for (const [name, proc] of Object.entries(measured)) startRss[name] = rssKb(proc.child.pid!, 'VmRSS');
    await sleep(Math.max(0, IDLE_SETTLE_MS - (Date.now() - lastStart)));
    const idleRss: Record<string, number> = {};
    for (const [name, proc] of Object.entries(measured)) idleRss[name] = rssKb(proc.child.pid!, 'VmRSS');
    // Warm the JIT so the first scenario is not measured cold.
    for (const [name, proc] of Object.entries(measured)) {
      const headers = name === 'gateway-keys' && key ? { authorization: `Bearer ${key}` } : undefined;
      const body = name === 'floor' ? directChat : chatBody;
      // Plain and streamed, long enough for the JIT to settle: the first scenario measured must not pay for it.
      await run(proc.url, { name: 'warm-up', target: 'gateway', method: 'POST', path: '/v1/chat/completions', body, headers }, 4);
      await run(proc.url, { name: 'warm-up', target: 'gateway', method: 'POST', path: '/v1/chat/completions', body: { ...body, stream: true }, headers }, 3);
    }

    const list = scenarios(key, nginx !== undefined, floor !== undefined, args.only?.split(',').map((name) => name.trim()));
    const slices = new Map<string, Slice[]>(list.map((scenario) => [scenario.name, []]));
    const sliceSeconds = duration / rounds;
    // Round after round over every scenario: this box's speed drifts by tens of percent within
    // minutes, and a scenario measured in one block would carry whatever minute it ran in.
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of list) {
        const gw = scenario.target === 'direct' || scenario.target === 'nginx' ? undefined : measured[scenario.target];
        const before = gw ? cpuTicks(gw.child.pid!) : 0;
        const result = await run(urls[scenario.target]!, scenario, sliceSeconds);
        const after = gw ? cpuTicks(gw.child.pid!) : 0;
        slices.get(scenario.name)!.push({
          requests: result.requests.total,
          seconds: sliceSeconds,
          cpuUs: gw ? ((after - before) / CLK_TCK) * 1e6 : undefined,
          p50: result.latency.p50,
          p99: result.latency.p99,
          mean: result.latency.average,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
        });
      }
      console.error(`  round ${round} of ${rounds} done`);
    }
    const results: Result[] = [];
    for (const scenario of list) {
      const r = combineSlices(scenario.name, slices.get(scenario.name)!);
      const base = results.find((x) => x.name === scenario.baseline);
      if (base) {
        r.overheadRatio = r.rps / base.rps;
        r.addedP50Ms = r.p50 - base.p50;
        r.addedMeanMs = r.mean - base.mean;
      }
      results.push(r);
      console.error(`  ${scenario.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms`);
    }
    const peakRss: Record<string, number> = {};
    for (const [name, proc] of Object.entries(measured)) peakRss[name] = rssKb(proc.child.pid!, 'VmHWM');
    printTable(results, { start: startRss, idle: idleRss, peak: peakRss }, slices);
    if (args.json) {
      const ratioValues = ratios(results, slices).map(({ name, target, value, spread }) => ({ name, target: target ?? null, value: value ?? null, spread: spread ?? null }));
      writeFileSync(args.json, JSON.stringify({ connections, duration, rounds, results, ratios: ratioValues, startRssKb: startRss, idleRssKb: idleRss, peakRssKb: peakRss }, null, 2));
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await nginxStop?.();
    closeSink?.();
    rmSync(dir, { recursive: true, force: true });
    if (usedRedis) {
      await dropKeys(args['redis-url'], `bench:${process.pid}:`).catch((err: unknown) => console.error(`(could not delete this run's Redis keys, bench:${process.pid}:*: ${(err as Error).message})`));
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
