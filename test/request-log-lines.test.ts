/**
 * A request's log lines carry its id (`reqId`, the call id the answer names in
 * `x-gateway-call-id`) whatever the level, although the request's logger only becomes a pino
 * child when it writes a line (src/http/deferred-logger.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeServer, sendJson, type FakeServer } from './fakes/fake-server.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { eventually } from './helpers/wait.js';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close();
});

async function gatewayLogging(level: string, upstream: FakeServer): Promise<{ gw: TestGateway; lines: () => Array<Record<string, unknown>> }> {
  const written: string[] = [];
  const gw = await startGateway(
    {
      server: { log_level: level },
      providers: { up: { type: 'openai-compatible', base_url: `${upstream.url}/v1` } },
      models: [{ name: 'm', retries: 0, deployments: [{ provider: 'up', model: 'up-model' }] }],
    },
    { logStream: { write: (line: string) => written.push(line) } },
  );
  closers.push(() => gw.close());
  return { gw, lines: () => written.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

async function callId(gw: TestGateway): Promise<string> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.text();
  return res.headers.get('x-gateway-call-id')!;
}

describe("a request's log lines", () => {
  it('at warn: the failed attempt is logged with the call id; an ordinary call writes nothing', async () => {
    const upstream = await startFakeServer((_req, res) => sendJson(res, 500, { error: { message: 'boom', type: 'server_error' } }));
    closers.push(() => upstream.close());
    const { gw, lines } = await gatewayLogging('warn', upstream);
    const id = await callId(gw);
    const failed = lines().filter((line) => String(line.msg).startsWith('upstream attempt failed'));
    expect(failed.length).toBeGreaterThan(0);
    for (const line of failed) expect(line.reqId).toBe(id);
    expect(lines().some((line) => line.msg === 'request completed')).toBe(false);
  });

  it('at info: the request completed line carries the call id', async () => {
    const upstream = await startFakeServer((_req, res) =>
      sendJson(res, 200, { id: 'x', object: 'chat.completion', created: 1, model: 'up-model', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }),
    );
    closers.push(() => upstream.close());
    const { gw, lines } = await gatewayLogging('info', upstream);
    const id = await callId(gw);
    // Written once the answer is sent, which may be after the client has read it.
    await eventually(() => expect(lines().find((line) => line.msg === 'request completed' && line.reqId === id)).toMatchObject({ status: 200, method: 'POST', url: '/v1/chat/completions' }));
  });
});
