/**
 * `GET /v1/models` and `GET /v1/models/{model}` through both official SDKs: OpenAI's list shape
 * by default, Anthropic's for the Anthropic SDK (which sends `anthropic-version`), and 404 in the
 * gateway's shape for a model it does not serve or a client API it does not offer.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { apiErrorOf } from './helpers/http.js';

let gw: TestGateway;
let anthropic: Anthropic;

beforeAll(async () => {
  gw = await startGateway({
    providers: { demo: { type: 'mock' } },
    models: [{ name: 'm', deployments: [{ provider: 'demo', model: 'mock-1' }] }],
  });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: 'sk-ant-client', maxRetries: 0 });
});

afterAll(async () => {
  await gw?.close();
});

describe('model listing for every client API', () => {
  it('lists groups then direct names in OpenAI shape, and retrieves each, slash included', async () => {
    const list = await gw.client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(['m', 'demo/mock-1']);
    expect(list.data[0]).toMatchObject({ object: 'model', owned_by: 'konnect-gateway' });
    expect(await gw.client.models.retrieve('m')).toEqual(list.data[0]);
    expect(await gw.client.models.retrieve('demo/mock-1')).toEqual(list.data[1]);
  });

  it('answers the Anthropic SDK in its own list and model shape', async () => {
    const page = await anthropic.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['m', 'demo/mock-1']);
    expect(page.data[0]).toMatchObject({ type: 'model', id: 'm', display_name: 'm' });
    expect(Number.isNaN(Date.parse(page.data[0]!.created_at))).toBe(false);
    expect(page.has_more).toBe(false);
    expect(await anthropic.models.retrieve('demo/mock-1')).toMatchObject({ type: 'model', id: 'demo/mock-1' });
  });

  it('answers 404 model_not_found for a model it does not serve', async () => {
    const err = await apiErrorOf(gw.client.models.retrieve('gpt-4o'));
    expect(err.status).toBe(404);
    expect(err.error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });

  it.each([
    ['POST', '/v1/assistants'],
    ['POST', '/v1/threads'],
    ['GET', '/v1/files'],
    ['POST', '/v1/batches'],
    ['POST', '/v1/images/generations'],
    ['POST', '/v1/audio/speech'],
    ['POST', '/v1/moderations'],
    ['POST', '/v1/fine_tuning/jobs'],
    ['POST', '/v1/vector_stores'],
    ['POST', '/v1/messages/batches'],
  ])('answers %s %s, an API it does not serve, with 404 in its error shape', async (method, path) => {
    const res = await fetch(`${gw.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: `no route for ${method} ${path}`, type: 'not_found_error', param: null, code: 'not_found' } });
  });
});
