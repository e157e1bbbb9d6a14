/**
 * Names the gateway echoes in `x-gateway-*` headers come from the config and from upstreams
 * (clients' model names are held to letters, digits and `._:/@+-`). Characters HTTP headers
 * cannot carry must not turn an answer into a 500 in Fastify's own shape, nor leave a stream
 * hanging before its headers: they are percent-encoded.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { toHeaderValue } from '../src/http/gateway-headers.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { closedPort } from './helpers/ports.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({
    providers: {
      demo: { type: 'mock' },
      gone: { type: 'openai-compatible', base_url: `http://127.0.0.1:${await closedPort()}/v1` },
    },
    models: [
      { name: 'm', deployments: [{ provider: 'demo', model: 'mock-1' }] },
      { name: 'wide', deployments: [{ provider: 'demo', model: '模型' }] },
      { name: 'wide-gone', retries: 0, deployments: [{ provider: 'gone', model: '模型' }] },
    ],
    prompts: { dir: '/nonexistent-prompts-dir' },
  });
});
afterAll(() => gw?.close());

function post(body: unknown): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
}

const hello = [{ role: 'user', content: 'hi' }];

it('percent-encodes what a header cannot carry, as UTF-8, and leaves the rest alone', () => {
  expect(toHeaderValue('gpt-4o-mini')).toBe('gpt-4o-mini');
  expect(toHeaderValue('模型')).toBe('%E6%A8%A1%E5%9E%8B');
  expect(toHeaderValue('a\r\nx-injected: 1')).toBe('a%0D%0Ax-injected: 1');
  expect(toHeaderValue('😀')).toBe('%F0%9F%98%80');
});

it('refuses a client model name outside its character set as 400 param model', async () => {
  const res = await post({ model: 'demo/模型', messages: hello });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: { param: string } }).error.param).toBe('model');
});

it('answers a deployment whose upstream model is not Latin-1, plain and streamed', async () => {
  const plain = await post({ model: 'wide', messages: hello });
  expect(plain.status).toBe(200);
  expect(plain.headers.get('x-gateway-model')).toBe('%E6%A8%A1%E5%9E%8B');
  expect(((await plain.json()) as { model: string }).model).toBe('模型');

  const streamed = await post({ model: 'wide', messages: hello, stream: true });
  expect(streamed.status).toBe(200);
  expect(streamed.headers.get('x-gateway-model')).toBe('%E6%A8%A1%E5%9E%8B');
  expect(await streamed.text()).toMatch(/data: \[DONE\]\n\n$/);
});

it('keeps the error shape when such a call fails upstream', async () => {
  const res = await post({ model: 'wide-gone', messages: hello });
  expect(res.status).toBe(502);
  expect(res.headers.get('x-gateway-model')).toBe('%E6%A8%A1%E5%9E%8B');
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_unavailable');
});
