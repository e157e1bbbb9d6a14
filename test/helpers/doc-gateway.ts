/**
 * The gateways the doc examples run against: one per page config and environment, started
 * in-process on 127.0.0.1:0 from the very file the page names, with only what a test needs
 * changed (silent logs, a free port, a throwaway spool and a copy of the prompts dir, since
 * publishing a prompt without Redis writes files there).
 */
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load-config.js';

type Loose = Record<string, unknown>;

function isMapping(value: unknown): value is Loose {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function readYamlFile(file: string): Loose {
  const raw: unknown = parseYaml(readFileSync(file, 'utf8'));
  if (!isMapping(raw)) throw new Error(`${file}: not a YAML mapping`);
  return raw;
}

/**
 * A config snippet laid over a whole config, as a reader would paste it in: mappings merge key
 * by key, list items with a `name` replace the item of that name (or join the list), and
 * anything else replaces what was there.
 */
export function overlay(base: unknown, snippet: unknown): unknown {
  if (isMapping(base) && isMapping(snippet)) {
    const out: Loose = { ...base };
    for (const [key, value] of Object.entries(snippet)) out[key] = overlay(base[key], value);
    return out;
  }
  const named = (items: unknown[]) => items.every((item) => isMapping(item) && typeof item.name === 'string');
  if (Array.isArray(base) && Array.isArray(snippet) && named(base) && named(snippet)) {
    const out = [...base] as Loose[];
    for (const item of snippet as Loose[]) {
      const at = out.findIndex((existing) => existing.name === item.name);
      if (at >= 0) out[at] = item;
      else out.push(item);
    }
    return out;
  }
  return snippet;
}

/**
 * What a reader's environment would hold when a config names secrets: every `${…_KEY}`,
 * `${…_TOKEN}`, `${…_PASSWORD}` and `${…_SECRET}` gets a dummy value, nothing else is set.
 */
export function dummySecrets(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return new Proxy({ ...extra } as NodeJS.ProcessEnv, {
    get(target, name) {
      if (typeof name !== 'string') return undefined;
      if (name in target) return target[name];
      return /_(KEY|TOKEN|PASSWORD|SECRET)$/.test(name) ? `dummy-${name.toLowerCase()}-0123456789abcdef` : undefined;
    },
  });
}

export interface DocGateway {
  port: number;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startDocGateway(configFile: string, env: Record<string, string>): Promise<DocGateway> {
  const raw = readYamlFile(configFile);
  const scratch = mkdtempSync(join(tmpdir(), 'konnect-docs-'));
  const prompts = isMapping(raw.prompts) && typeof raw.prompts.dir === 'string' ? raw.prompts.dir : undefined;
  const promptsCopy = join(scratch, 'prompts');
  if (prompts) cpSync(prompts, promptsCopy, { recursive: true });
  const patched = overlay(raw, {
    server: { host: '127.0.0.1', port: 0, log_level: 'silent' },
    ledger: { spool_dir: join(scratch, 'spool') },
    ...(prompts ? { prompts: { dir: promptsCopy } } : {}),
  });
  const config = parseConfig(patched, env);
  const app = await buildApp(config, { env, configCachePath: null });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    port,
    app,
    close: async () => {
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
    },
  };
}
