/**
 * Secret-looking query values never reach the logs: the gateway's `request completed` line and
 * Fastify's own `req` serializer redact values of query keys such as `api_key`, `sig`, `code`.
 */
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildApp } from '../src/app.js';
import { parseConfig } from '../src/config/load-config.js';
import { redactUrl } from '../src/http/redact-url.js';

describe('redactUrl', () => {
  test('values of key/token/secret/sig/code/pass/auth names, whatever their case or encoding', () => {
    expect(redactUrl('/v1/models?api_key=sk-live-123&limit=5')).toBe('/v1/models?api_key=****&limit=5');
    expect(redactUrl('/cb?code=abc&state=xyz&SIG=s1&X-Amz-Signature=s2')).toBe('/cb?code=****&state=xyz&SIG=****&X-Amz-Signature=****');
    expect(redactUrl('/p?access_token=t&password=p&Authorization=a&client_secret=c')).toBe('/p?access_token=****&password=****&Authorization=****&client_secret=****');
    expect(redactUrl('/p?api%5Fkey=sk-enc&x=1')).toBe('/p?api%5Fkey=****&x=1');
    expect(redactUrl('/p?key=a&key=b')).toBe('/p?key=****&key=****');
  });

  test('everything else exactly as received', () => {
    for (const url of ['/v1/chat/completions', '/p?', '/p?key=', '/p?key&x=1', '/p?limit=5&model=gpt-4o', '/p?q=%E2%9C%93&&x', '/p?a=b=c']) {
      expect(redactUrl(url)).toBe(url);
    }
  });
});

describe('log lines', () => {
  const lines: string[] = [];
  let app: Awaited<ReturnType<typeof buildApp>>;
  beforeAll(async () => {
    const config = parseConfig({ server: { log_level: 'info' }, providers: { demo: { type: 'mock' } }, prompts: { dir: '/nonexistent-prompts-dir' } });
    app = await buildApp(config, { logStream: { write: (line) => void lines.push(line) } });
    // A route that logs its request the way Fastify's own error lines do, through the `req` serializer.
    app.get('/test/log-req', async (request: FastifyRequest) => {
      request.log.warn({ req: request }, 'logged with the req serializer');
      return { ok: true };
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  test('`request completed` and the req serializer show redacted URLs', async () => {
    const models = await app.inject({ method: 'GET', url: '/v1/models?api_key=sk-in-query-123&sig=sig-456&limit=5' });
    expect(models.statusCode).toBe(200);
    const logged = await app.inject({ method: 'GET', url: '/test/log-req?token=tok-789&page=2' });
    expect(logged.statusCode).toBe(200);

    const text = lines.join('');
    for (const secret of ['sk-in-query-123', 'sig-456', 'tok-789']) expect(text).not.toContain(secret);
    const completed = lines.map((line) => JSON.parse(line) as { msg: string; url?: string; req?: { url: string; method: string } });
    expect(completed.filter((l) => l.msg === 'request completed').map((l) => l.url)).toEqual([
      '/v1/models?api_key=****&sig=****&limit=5',
      '/test/log-req?token=****&page=2',
    ]);
    expect(completed.find((l) => l.msg === 'logged with the req serializer')?.req).toMatchObject({ method: 'GET', url: '/test/log-req?token=****&page=2' });
  });
});
