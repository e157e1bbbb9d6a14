/**
 * Starts a real gateway on 127.0.0.1:0 from a raw config object (as in gateway.yaml), with an
 * `openai` SDK client pointed at it. Tests drive the gateway only through HTTP.
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { buildApp, type AppDeps } from '../../src/app.js';
import { parseConfig } from '../../src/config/load-config.js';

export interface TestGateway {
  url: string;
  /** The official SDK, baseURL `<url>/v1`, no SDK retries so attempt counts stay exact. */
  client: OpenAI;
  app: FastifyInstance;
  close(): Promise<void>;
}

// One spool directory per test file, so a gateway restarted within a file replays its own
// spool and nothing lands in the working tree.
const spoolDir = mkdtempSync(join(tmpdir(), 'konnect-spool-'));

export async function startGateway(raw: unknown, deps: AppDeps = {}, env: NodeJS.ProcessEnv = {}): Promise<TestGateway> {
  const given = raw as Record<string, unknown> & { ledger?: Record<string, unknown> };
  const withQuietLogs = { server: { log_level: 'silent' }, ...given, ledger: { spool_dir: spoolDir, ...given.ledger } };
  const config = parseConfig(withQuietLogs, env);
  const app = await buildApp(config, deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-test-client', maxRetries: 0, timeout: 15_000 });
  const close = async () => {
    const closing = app.close();
    // Client pools may hold sockets that never carried a request; Fastify waits on those
    // until they time out. Nothing is in flight when a test closes, so cut them all.
    app.server.closeAllConnections();
    await closing;
  };
  return { url, client, app, close };
}
