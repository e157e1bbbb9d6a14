/**
 * Helpers of the access-control suites: a config on the mock provider (one free group, one
 * priced group) and admin calls with the master key. Per-suite Redis prefixes are in redis.ts.
 */
import OpenAI from 'openai';
import { REDIS_URL } from './redis.js';

export const MASTER = 'sk-master-test-0123456789';

/** Gateway config on the offline mock: `free` costs nothing, `paid` costs $0.001 per token. */
export function accessConfig(options: { prefix?: string; requireKeys?: boolean; webhook?: string; promptsDir?: string } = {}) {
  return {
    store: options.prefix ? { redis_url: REDIS_URL, key_prefix: options.prefix } : {},
    auth: { master_key: MASTER, require_keys: options.requireKeys ?? true, budget_alert_webhook: options.webhook ?? '' },
    providers: { demo: { type: 'mock' } },
    models: [
      { name: 'free', deployments: [{ provider: 'demo', model: 'mock-free' }] },
      { name: 'other', deployments: [{ provider: 'demo', model: 'mock-other' }] },
      { name: 'paid', deployments: [{ provider: 'demo', model: 'mock-paid', price: { input: 1000, output: 1000 } }] },
    ],
    prompts: { dir: options.promptsDir ?? '/nonexistent-prompts-dir' },
  };
}

export interface AdminAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the admin API with the master key. */
export async function admin<T = any>(url: string, method: string, path: string, body?: unknown): Promise<AdminAnswer<T>> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${MASTER}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Creates a key and answers its id and secret. */
export async function createKey(url: string, spec: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const res = await admin(url, 'POST', '/admin/keys', spec);
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createTeam(url: string, spec: Record<string, unknown>): Promise<{ id: string }> {
  const res = await admin(url, 'POST', '/admin/teams', spec);
  if (res.status !== 201) throw new Error(`team creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** An `openai` client of the gateway that presents `key`, without SDK retries. */
export function clientFor(url: string, key: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0, timeout: 15_000 });
}

/** One chat call; answers the status and headers whether it succeeded or not. */
export async function chat(
  client: OpenAI,
  model = 'free',
  extra: Record<string, unknown> = {},
): Promise<{ status: number; headers: Headers; code?: string; type?: string; message?: string; cost?: number; totalTokens?: number }> {
  try {
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'Say something short.' }], ...extra } as never)
      .withResponse();
    const usage = (data as { usage?: { total_tokens: number } }).usage;
    return { status: response.status, headers: response.headers, cost: Number(response.headers.get('x-gateway-cost-usd')), totalTokens: usage?.total_tokens };
  } catch (err) {
    if (err instanceof OpenAI.APIError && err.status !== undefined) {
      const body = err.error as { code?: string; type?: string; message?: string } | undefined;
      return { status: err.status, headers: err.headers as Headers, code: body?.code ?? err.code ?? undefined, type: body?.type ?? err.type, message: body?.message };
    }
    throw err;
  }
}
