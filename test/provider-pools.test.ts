/**
 * A provider's connection pool is bounded and never queues: with `connections: 20`, 40
 * concurrent streams get 20 answers and 20 immediate 503 `gateway_busy`, which count neither
 * against the deployments' health nor as a reason to try the pool's other deployment.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMessage, messageEvents } from './fakes/anthropic.js';
import { sseEvents, startFakeServer, type FakeServer, type RecordedRequest } from './fakes/fake-server.js';
import { buildChunks, sseFrames } from './fakes/openai.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import type { ErrorShape } from './helpers/raw-http.js';

const MASTER = 'master-key-provider-pools';
const CONNECTIONS = 20;
const STREAMS = 40;

type Body = Record<string, unknown>;

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Every stream sends its first content, then holds the rest until the test opens `release`. */
let release = gate();

/** An upstream that streams slowly: its first content at once, the rest once released. */
async function holdStream(res: ServerResponse, head: string, tail: string): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(head);
  await release.promise;
  res.end(tail);
}

function openAIStream(req: RecordedRequest, res: ServerResponse): Promise<void> {
  const payloads = buildChunks({}, req.body as Body);
  // The role chunk and the first content chunk: enough for the gateway to answer 200.
  return holdStream(res, sseFrames(payloads.slice(0, 2), false), sseFrames(payloads.slice(2)));
}

function anthropicStream(req: RecordedRequest, res: ServerResponse): Promise<void> {
  const events = messageEvents(buildMessage({}, String((req.body as Body).model)));
  const firstDelta = events.findIndex((e) => e.event === 'content_block_delta') + 1;
  return holdStream(res, sseEvents(events.slice(0, firstDelta)), sseEvents(events.slice(firstDelta)));
}

let openai: FakeServer;
let anthropic: FakeServer;
let gw: TestGateway;

beforeAll(async () => {
  openai = await startFakeServer(openAIStream);
  anthropic = await startFakeServer(anthropicStream);
  gw = await startGateway({
    auth: { master_key: MASTER },
    providers: {
      compat: { type: 'openai-compatible', base_url: `${openai.url}/v1`, connections: CONNECTIONS },
      claude: { type: 'anthropic', api_key: 'sk-ant-test', base_url: anthropic.url, connections: CONNECTIONS },
    },
    models: [
      // Two deployments on one provider: a busy pool must not send the call to the other one.
      { name: 'compat-pool', retries: 2, deployments: [{ provider: 'compat', model: 'm-a' }, { provider: 'compat', model: 'm-b' }] },
      { name: 'claude-pool', retries: 2, deployments: [{ provider: 'claude', model: 'claude-a' }, { provider: 'claude', model: 'claude-b' }] },
    ],
  });
});

afterAll(async () => {
  release.open();
  await gw?.close();
  await openai?.close();
  await anthropic?.close();
});

interface DeploymentRow {
  id: string;
  group: string;
  state: string;
  cooldown_until: string | null;
  failures: number;
  in_flight: number;
}

async function deployments(group: string): Promise<DeploymentRow[]> {
  const res = await fetch(`${gw.url}/admin/deployments`, { headers: { authorization: `Bearer ${MASTER}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { deployments: DeploymentRow[] }).deployments.filter((d) => d.group === group);
}

describe.each([
  ['openai-compatible', 'compat-pool', () => openai],
  ['anthropic', 'claude-pool', () => anthropic],
])('a saturated %s pool', (_kind, model, upstream) => {
  it(`answers ${CONNECTIONS} of ${STREAMS} concurrent streams and refuses the rest with 503 gateway_busy, blaming no deployment`, async () => {
    release = gate();
    const before = upstream().requests.length;
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: STREAMS }, () =>
        fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        }),
      ),
    );
    // Every answer came while the admitted streams were still held open: nobody waited for a connection.
    const answeredIn = Date.now() - started;
    const ok = responses.filter((r) => r.status === 200);
    const busy = responses.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(CONNECTIONS);
    expect(busy).toHaveLength(STREAMS - CONNECTIONS);
    for (const res of busy) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as ErrorShape).error).toMatchObject({ code: 'gateway_busy', type: 'api_error' });
    }
    // One upstream request per admitted stream: no refused call was tried on the other deployment.
    expect(upstream().requests.length - before).toBe(CONNECTIONS);

    release.open();
    for (const res of ok) expect(await res.text()).toMatch(/data: \[DONE\]\n\n$/);

    const rows = await deployments(model);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatchObject({ state: 'healthy', cooldown_until: null, failures: 0, in_flight: 0 });

    // The pool is whole again: the next streams are all served.
    const after = await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        });
        await res.text();
        return res.status;
      }),
    );
    expect(after).toEqual(Array.from({ length: CONNECTIONS }, () => 200));
    console.info(`${model}: ${STREAMS} streams answered (${ok.length} × 200, ${busy.length} × 503) in ${answeredIn} ms`);
  });
});
