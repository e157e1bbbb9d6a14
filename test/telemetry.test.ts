/**
 * OpenTelemetry tracing end to end (docs/telemetry.md): the `openai` SDK against the gateway,
 * the gateway against scripted OpenAI-compatible upstreams, and its spans exported to a fake
 * OTLP/HTTP collector. Spans are exported when the gateway closes (the processor's final
 * flush), so nothing here waits on the export timer.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { failWith, startScriptedOpenAI, type ScriptedOpenAI } from './fakes/scripted-openai.js';
import { SPAN_KIND, STATUS_CODE, startFakeCollector, type FakeCollector, type ReceivedSpan } from './fakes/otlp-collector.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import type { AppDeps } from '../src/app.js';
import { telemetrySchema } from '../src/config/telemetry-schema.js';
import type { TelemetryConfig } from '../src/config/types.js';
import { DEFAULT_TRACES_URL, telemetrySettings } from '../src/telemetry/telemetry-settings.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN_ID = '00f067aa0ba902b7';
const SECRET = 'my-private-question-about-7f3a';
const messages = [{ role: 'user' as const, content: SECRET }];

async function upstream(name: string): Promise<ScriptedOpenAI> {
  const fake = await startScriptedOpenAI(name);
  closers.push(() => fake.close());
  return fake;
}

async function collector(): Promise<FakeCollector> {
  const fake = await startFakeCollector();
  closers.push(() => fake.close());
  return fake;
}

/** A gateway with one group, `traced`: `first` then `second` in priority order, one retry. */
async function gateway(first: ScriptedOpenAI, second: ScriptedOpenAI, telemetry: Record<string, unknown> | undefined, deps: AppDeps = {}): Promise<TestGateway> {
  const providers: Record<string, unknown> = {};
  for (const fake of [first, second]) providers[fake.name] = { type: 'openai-compatible', base_url: `${fake.url}/v1` };
  const price = { input: 1, output: 2 };
  const models = [
    {
      name: 'traced',
      strategy: 'priority',
      retries: 1,
      deployments: [
        { provider: first.name, model: `${first.name}-model`, price },
        { provider: second.name, model: `${second.name}-model`, price },
      ],
    },
  ];
  const gw = await startGateway({ providers, models, ...(telemetry ? { telemetry } : {}) }, { env: {}, ...deps });
  closers.push(() => gw.close());
  return gw;
}

function traceparentOf(fake: ScriptedOpenAI, index: number): { traceId: string; parentId: string } {
  const header = fake.requests[index]?.headers.traceparent;
  expect(header, `${fake.name} got no traceparent`).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  const [, traceId, parentId] = String(header).split('-');
  return { traceId: traceId!, parentId: parentId! };
}

const callSpans = (spans: ReceivedSpan[]) => spans.filter((s) => s.kind === SPAN_KIND.server);
const attemptSpans = (spans: ReceivedSpan[]) => spans.filter((s) => s.kind === SPAN_KIND.client);

describe('tracing on', () => {
  it('exports one call span with the GenAI attributes under the client trace, one attempt span per attempt, and sends traceparent upstream', async () => {
    const [failing, healthy, otlp] = await Promise.all([upstream('failing'), upstream('healthy'), collector()]);
    failing.enqueue(failWith(503));
    const gw = await gateway(failing, healthy, { endpoint: otlp.tracesUrl, service_name: 'gateway-under-test' });
    const client = new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: 'sk-test-client',
      maxRetries: 0,
      defaultHeaders: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN_ID}-01` },
    });
    const { data, response } = await client.chat.completions.create({ model: 'traced', messages }).withResponse();
    expect(data.choices[0]!.message.content).toBe(healthy.text);
    expect(response.headers.get('x-gateway-attempts')).toBe('2');
    await gw.close();

    const spans = otlp.spans();
    const [call, ...otherCalls] = callSpans(spans);
    expect(otherCalls).toEqual([]);
    expect(call).toBeDefined();
    // The call continues the client's trace.
    expect(call!.traceId).toBe(TRACE_ID);
    expect(call!.parentSpanId).toBe(CLIENT_SPAN_ID);
    expect(call!.name).toBe('chat traced');
    expect(call!.resource['service.name']).toBe('gateway-under-test');
    expect(call!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'healthy',
      'gen_ai.request.model': 'traced',
      'gen_ai.response.model': 'healthy-model',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.response.finish_reasons': ['stop'],
      'http.response.status_code': 200,
      'konnect.route': 'chat',
      'konnect.provider': 'healthy',
      'konnect.attempts': 2,
      'konnect.cache_hit': false,
      'konnect.call_id': response.headers.get('x-gateway-call-id'),
    });
    // 10 input tokens at $1/M + 3 output tokens at $2/M.
    expect(call!.attributes['konnect.cost_usd']).toBeCloseTo(0.000016, 12);
    expect(call!.status.code).toBe(STATUS_CODE.unset);

    const attempts = attemptSpans(spans);
    expect(attempts.map((s) => s.name)).toEqual(['chat failing-model', 'chat healthy-model']);
    for (const attempt of attempts) {
      expect(attempt.traceId).toBe(TRACE_ID);
      expect(attempt.parentSpanId).toBe(call!.spanId);
      expect(attempt.attributes['server.address']).toBe('127.0.0.1');
    }
    const [failed, answered] = attempts as [ReceivedSpan, ReceivedSpan];
    expect(failed.attributes).toMatchObject({ 'konnect.attempt': 1, 'error.type': '503', 'http.response.status_code': 503, 'server.port': failing.port });
    expect(failed.status.code).toBe(STATUS_CODE.error);
    expect(answered.attributes).toMatchObject({ 'konnect.attempt': 2, 'gen_ai.request.model': 'healthy-model', 'server.port': healthy.port });
    expect(answered.attributes['error.type']).toBeUndefined();
    expect(answered.status.code).toBe(STATUS_CODE.unset);

    // Each upstream request names its own attempt's span, in the client's trace.
    expect(traceparentOf(failing, 0)).toEqual({ traceId: TRACE_ID, parentId: failed.spanId });
    expect(traceparentOf(healthy, 0)).toEqual({ traceId: TRACE_ID, parentId: answered.spanId });

    // Message content stays out of the spans unless the operator turns it on.
    expect(call!.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(call!.attributes['gen_ai.output.messages']).toBeUndefined();
    expect(JSON.stringify(otlp.requests.map((r) => r.body))).not.toContain(SECRET);
    expect(JSON.stringify(otlp.requests.map((r) => r.body))).not.toContain(healthy.text);
  });

  it('is turned on by OTEL_EXPORTER_OTLP_ENDPOINT, starts a trace of its own, and captures content and a stream finish when asked', async () => {
    const [first, second, otlp] = await Promise.all([upstream('first'), upstream('second'), collector()]);
    const gw = await gateway(first, second, { capture_content: true }, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: `${otlp.url}/` } });
    const stream = await gw.client.chat.completions.create({ model: 'traced', messages, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(first.text);
    await gw.close();

    const spans = otlp.spans();
    const [call, ...otherCalls] = callSpans(spans);
    expect(otherCalls).toEqual([]);
    const [attempt, ...otherAttempts] = attemptSpans(spans);
    expect(otherAttempts).toEqual([]);
    expect(call!.parentSpanId).toBeUndefined();
    expect(attempt!.parentSpanId).toBe(call!.spanId);
    expect(traceparentOf(first, 0)).toEqual({ traceId: call!.traceId, parentId: attempt!.spanId });
    expect(call!.resource['service.name']).toBe('konnect-gateway');
    expect(call!.attributes).toMatchObject({
      'gen_ai.request.model': 'traced',
      'gen_ai.response.model': 'first-model',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.output_tokens': 3,
    });
    expect(String(call!.attributes['gen_ai.input.messages'])).toContain(SECRET);
    expect(JSON.parse(String(call!.attributes['gen_ai.output.messages']))).toEqual([{ role: 'assistant', content: first.text }]);
  });

  it('marks a call every attempt of which failed, and sends nothing when the config says enabled: false', async () => {
    const [first, second, otlp] = await Promise.all([upstream('down1'), upstream('down2'), collector()]);
    first.behave(failWith(500));
    second.behave(failWith(500));
    const gw = await gateway(first, second, { endpoint: otlp.tracesUrl });
    const err = await gw.client.chat.completions.create({ model: 'traced', messages }).catch((e: unknown) => e);
    expect((err as { status?: number }).status).toBe(502);
    await gw.close();
    const [call] = callSpans(otlp.spans());
    expect(call!.attributes).toMatchObject({ 'error.type': 'upstream_error', 'http.response.status_code': 502, 'konnect.attempts': 2 });
    expect(call!.status.code).toBe(STATUS_CODE.error);
    expect(attemptSpans(otlp.spans()).map((s) => s.attributes['error.type'])).toEqual(['500', '500']);

    const quiet = await gateway(first, second, { enabled: false }, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url } });
    const before = otlp.requests.length;
    const sent = first.requests.length;
    await quiet.client.chat.completions.create({ model: 'traced', messages }).catch(() => undefined);
    await quiet.close();
    expect(otlp.requests.length).toBe(before);
    expect(first.requests[sent]?.headers.traceparent).toBeUndefined();
  });
});

describe('when tracing is on', () => {
  const config = (given: Partial<TelemetryConfig> = {}): TelemetryConfig => ({ service_name: 'konnect-gateway', capture_content: false, headers: {}, endpoint: '', ...given });
  it('follows the config, then the OTEL_* variables', () => {
    expect(telemetrySchema.default).toEqual({});
    expect(telemetrySettings(config(), {})).toBeNull();
    expect(telemetrySettings(config({ enabled: true }), {})?.url).toBe(DEFAULT_TRACES_URL);
    expect(telemetrySettings(config({ endpoint: 'http://c:4318/v1/traces' }), {})?.url).toBe('http://c:4318/v1/traces');
    expect(telemetrySettings(config(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })?.url).toBe('http://c:4318/v1/traces');
    const both = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/traces' };
    expect(telemetrySettings(config(), both)?.url).toBe('http://t:4318/traces');
    expect(telemetrySettings(config({ endpoint: 'http://mine/v1/traces' }), both)?.url).toBe('http://mine/v1/traces');
    expect(telemetrySettings(config({ enabled: false }), both)).toBeNull();
    expect(telemetrySettings(config({ enabled: true }), { OTEL_SDK_DISABLED: 'true' })).toBeNull();
    expect(telemetrySettings(config(), { ...both, OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
    expect(telemetrySettings(config({ enabled: true }), { OTEL_SERVICE_NAME: 'edge-gw' })?.serviceName).toBe('edge-gw');
  });
});

/**
 * With tracing off, starting the gateway and serving a call loads no @opentelemetry module;
 * with it on, the same run does (the positive control). A child process watches every module
 * resolution (an ESM resolve hook) and CommonJS's module cache.
 */
describe('tracing off', () => {
  const ROOT = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'konnect-telemetry-imports-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  // The main thread's flush: port messages keep their order, so this one arrives after every earlier one.
  if (specifier === 'konnect-flush:') {
    port.postMessage('flush');
    return { url: 'data:text/javascript,export{}', shortCircuit: true };
  }
  const result = await next(specifier, context);
  if (result.url.includes('/node_modules/@opentelemetry/')) port.postMessage(result.url);
  return result;
}
`;
  const MAIN = (hooksUrl: string, telemetry: unknown) => `
import { register, createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const seen = [];
const { port1, port2 } = new MessageChannel();
let flushed = () => {};
port1.on('message', (url) => (url === 'flush' ? flushed() : seen.push(url)));
port1.unref();
register(${JSON.stringify(hooksUrl)}, { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
const { parseConfig } = await import('./src/config/load-config.ts');
const { buildApp } = await import('./src/app.ts');
const config = parseConfig({
  server: { log_level: 'silent' },
  providers: { demo: { type: 'mock' } },
  models: [{ name: 'm', deployments: [{ provider: 'demo', model: 'mock-1' }] }],
  ledger: { spool_dir: ${JSON.stringify(join(dir, 'spool'))} },
  telemetry: ${JSON.stringify(telemetry)},
}, {});
const app = await buildApp(config, { env: {} });
const answer = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'm', messages: [{ role: 'user', content: 'hi' }] } });
await app.close();
// Every resolution's message has arrived once the flush's has.
// The port is unref'd: held while waiting, so the process cannot end before the message lands.
port1.ref();
const done = new Promise((resolve) => (flushed = resolve));
await import('konnect-flush:');
await done;
port1.unref();
const cjs = Object.keys(createRequire(import.meta.url).cache).filter((file) => file.includes('/node_modules/@opentelemetry/'));
process.stdout.write('TELEMETRY-IMPORTS ' + JSON.stringify({ status: answer.statusCode, esm: seen, cjs }) + '\\n');
process.exit(0);
`;

  function loadedModules(telemetry: unknown): { status: number; esm: string[]; cjs: string[] } {
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(hooks, HOOKS);
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', MAIN(pathToFileURL(hooks).href, telemetry)], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 90_000,
      env: { PATH: process.env.PATH, NODE_OPTIONS: '' },
    });
    const line = child.stdout.split('\n').find((l) => l.startsWith('TELEMETRY-IMPORTS '));
    expect(line, `the child did not report (exit ${child.status}):\n${child.stderr.slice(-3000)}`).toBeDefined();
    return JSON.parse(line!.slice('TELEMETRY-IMPORTS '.length)) as { status: number; esm: string[]; cjs: string[] };
  }

  it('loads no @opentelemetry module, and does once tracing is on', () => {
    const off = loadedModules({});
    expect(off.status).toBe(200);
    expect([...off.esm, ...off.cjs]).toEqual([]);
    // Positive control: the watch sees the SDK when tracing is on (an endpoint nobody listens on; the final export fails quietly).
    const on = loadedModules({ endpoint: 'http://127.0.0.1:9/v1/traces' });
    expect(on.status).toBe(200);
    expect(on.esm.some((url) => url.includes('/@opentelemetry/sdk-trace-base/'))).toBe(true);
    expect(on.esm.some((url) => url.includes('/@opentelemetry/exporter-trace-otlp-http/'))).toBe(true);
  }, 120_000);
});
