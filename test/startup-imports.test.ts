/**
 * The provider SDKs (`openai`, `@anthropic-ai/sdk`, `@google/generative-ai`) are off the hot
 * path and loaded on first use (DESIGN.md, "Provider adapters"): starting the gateway loads none.
 *
 * A child process (`node --import tsx`) registers an ESM resolve hook (`module.register`) that
 * records, for every module, who imported it first, and watches CommonJS `require` too; then it
 * builds the app from config/gateway.yaml with a key for every provider (so every adapter is
 * built), listens, closes, and reports each SDK it saw loaded with the import chain that got
 * there (src/app.ts → … → the importer → the SDK). A positive control imports `openai` at the
 * end: the hook must see that one, or the test proves nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'konnect-startup-imports-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs in the loader-hooks thread: the first importer of every module, and each SDK module reached from outside an SDK. */
const HOOKS = `
const SDK = /\\/node_modules\\/(openai|@anthropic-ai\\/sdk|@google\\/generative-ai)\\//;
const firstParent = new Map();
let port;
let resolved = 0;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  // The main thread's flush(): port messages keep their order, so this one arrives after every earlier one.
  if (specifier.startsWith('konnect-flush:')) {
    port.postMessage({ type: 'flush' });
    return { url: 'data:text/javascript,export{}//' + specifier, shortCircuit: true };
  }
  const result = await next(specifier, context);
  resolved++;
  const parent = context.parentURL;
  if (parent && !firstParent.has(result.url)) firstParent.set(result.url, parent);
  if (SDK.test(result.url) && !(parent && SDK.test(parent))) {
    const chain = [];
    for (let url = parent, n = 0; url && n < 50; url = firstParent.get(url), n++) chain.unshift(url);
    port.postMessage({ type: 'sdk', specifier, url: result.url, chain, resolved });
  } else if (resolved % 200 === 1) {
    port.postMessage({ type: 'count', resolved });
  }
  return result;
}
`;

/** The child's main script (ESM, run with `--import tsx`). */
const MAIN = (hooksUrl: string, spoolDir: string) => `
import { register, createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import Module from 'node:module';

const SDK_NAMES = ['openai', '@anthropic-ai/sdk', '@google/generative-ai'];
const sdkOf = (request) => SDK_NAMES.find((name) => request === name || request.startsWith(name + '/'));
const seen = { esm: [], cjs: [], resolved: 0, control: null };
let phase = 'startup';

const { port1, port2 } = new MessageChannel();
let flushed = () => {};
port1.on('message', (msg) => {
  if (msg.type === 'flush') return flushed();
  seen.resolved = Math.max(seen.resolved, msg.resolved ?? 0);
  if (msg.type !== 'sdk') return;
  if (phase === 'control') seen.control = msg;
  else seen.esm.push(msg);
});
register(${JSON.stringify(hooksUrl)}, { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });

// CommonJS: require() in Node 20 does not go through the ESM hooks.
const originalLoad = Module._load;
const SDK_FILE = /node_modules\\/(openai|@anthropic-ai\\/sdk|@google\\/generative-ai)\\//;
Module._load = function (request, parent, isMain) {
  const from = parent?.filename ?? '';
  if (phase === 'startup' && !SDK_FILE.test(from)) {
    let file = '';
    try {
      file = Module._resolveFilename(request, parent, isMain);
    } catch {}
    if (sdkOf(request) || SDK_FILE.test(file)) seen.cjs.push({ specifier: sdkOf(request) ?? request, url: file, chain: [from] });
  }
  return originalLoad.apply(this, arguments);
};

/** Resolves once the hooks thread's messages so far have all arrived. */
let flushes = 0;
const flush = async () => {
  const done = new Promise((resolve) => (flushed = resolve));
  await import('konnect-flush:' + ++flushes);
  await done;
};

const { parse } = await import('yaml');
const { parseConfig } = await import('./src/config/load-config.ts');
const { buildApp } = await import('./src/app.ts');
// The test's self-check: a module that imports an SDK, loaded during start-up.
if (process.env.STARTUP_IMPORTS_PROBE) await import(process.env.STARTUP_IMPORTS_PROBE);
const raw = parse(readFileSync('config/gateway.yaml', 'utf8'));
// The default config, its ledger spool outside the working tree.
const config = parseConfig({ ...raw, ledger: { ...raw.ledger, spool_dir: ${JSON.stringify(spoolDir)} } }, process.env);
const app = await buildApp(config);
await app.listen({ host: '127.0.0.1', port: 0 });
const health = await app.inject({ method: 'GET', url: '/health' });
seen.providers = health.json().providers;
await app.close();
await flush();
const require = createRequire(import.meta.url);
seen.cacheHits = Object.keys(require.cache).filter((file) => SDK_FILE.test(file));
seen.undiciIndex = Object.keys(require.cache).some((file) => file.endsWith('/node_modules/undici/index.js'));

// Positive control: an SDK import now must be seen, or the hook is not watching.
phase = 'control';
await import('openai');
await flush();
process.stdout.write('STARTUP-IMPORTS ' + JSON.stringify(seen) + '\\n');
process.exit(0);
`;

interface Hit {
  specifier: string;
  url?: string;
  chain: string[];
}

interface Report {
  esm: Hit[];
  cjs: Hit[];
  resolved: number;
  control: Hit | null;
  cacheHits: string[];
  /** Whether undici's index (fetch, WebSocket, caches: ~5 MB resident) was loaded, rather than its Pool alone. */
  undiciIndex: boolean;
  providers: { enabled: string[]; disabled_no_key: string[] };
}

function relative(url: string): string {
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  return path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
}

function describeHit(hit: Hit): string {
  const importer = hit.chain.at(-1);
  return `  ${hit.specifier} imported by ${importer ? relative(importer) : '(unknown)'}\n    via ${[...hit.chain.map(relative), hit.specifier].join(' → ')}`;
}

/** Runs the child; `env` adds to its environment. */
function startAndReport(env: NodeJS.ProcessEnv = {}): Report {
  const hooks = join(dir, 'hooks.mjs');
  writeFileSync(hooks, HOOKS);
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', MAIN(pathToFileURL(hooks).href, join(dir, 'spool'))], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 90_000,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      // Every provider switched on, so every adapter is built at start.
      OPENAI_API_KEY: 'sk-startup-imports',
      ANTHROPIC_API_KEY: 'sk-ant-startup-imports',
      GEMINI_API_KEY: 'startup-imports',
      REDIS_URL: '',
      GATEWAY_MASTER_KEY: '',
      LOG_LEVEL: 'silent',
      ...env,
    },
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('STARTUP-IMPORTS '));
  expect(line, `the child did not report (exit ${child.status}):\n${child.stderr.slice(-3000)}`).toBeDefined();
  const report = JSON.parse(line!.slice('STARTUP-IMPORTS '.length)) as Report;
  // The hook watched the whole start-up, and sees an SDK import when there is one.
  expect(report.resolved, 'the resolve hook saw almost nothing: it is not watching').toBeGreaterThan(100);
  expect(report.control?.specifier, 'the positive control (import("openai") after start-up) was not seen').toBe('openai');
  expect([...report.providers.enabled].sort()).toEqual(['anthropic', 'demo', 'gemini', 'openai']);
  return report;
}

function failureMessage(report: Report): string {
  const hits = [...report.esm, ...report.cjs];
  return hits.length === 0 ? '' : `provider SDKs loaded at start-up (they belong behind \`await import()\` on first use):\n${hits.map(describeHit).join('\n')}`;
}

it('starting the gateway with the default config loads no provider SDK', () => {
  const report = startAndReport();
  const message = failureMessage(report);
  if (message) console.error(message);
  expect([...report.esm, ...report.cjs].map((h) => h.specifier), message).toEqual([]);
  expect(report.cacheHits, 'SDK files in the CommonJS require cache after start-up').toEqual([]);
  expect(report.undiciIndex, "undici's index loaded at start-up: the hot path needs its Pool only (src/core/undici-pool.ts)").toBe(false);
}, 120_000);

it('self-check: an SDK imported (ESM or CommonJS) during start-up is caught, with its importer', () => {
  // Fixtures beside a node_modules link, so their bare SDK specifiers resolve as the app's would.
  const fixtures = join(dir, 'fixtures');
  mkdirSync(fixtures, { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(fixtures, 'node_modules'), 'dir');
  writeFileSync(join(fixtures, 'leaky-esm.mjs'), "import Anthropic from '@anthropic-ai/sdk';\nexport const client = Anthropic;\n");
  writeFileSync(join(fixtures, 'leaky-cjs.cjs'), "module.exports = require('@google/generative-ai');\n");
  writeFileSync(join(fixtures, 'probe.mjs'), "import './leaky-esm.mjs';\nimport './leaky-cjs.cjs';\n");
  const report = startAndReport({ STARTUP_IMPORTS_PROBE: pathToFileURL(join(fixtures, 'probe.mjs')).href });
  const message = failureMessage(report);
  expect(report.esm.map((h) => h.specifier)).toContain('@anthropic-ai/sdk');
  expect(report.cjs.map((h) => h.specifier)).toContain('@google/generative-ai');
  expect(message).toMatch(/@anthropic-ai\/sdk imported by .*leaky-esm\.mjs\n\s+via .*probe\.mjs → .*leaky-esm\.mjs → @anthropic-ai\/sdk/);
  expect(message).toMatch(/@google\/generative-ai imported by .*leaky-cjs\.cjs/);
  expect(report.cacheHits.length).toBeGreaterThan(0);
}, 120_000);
