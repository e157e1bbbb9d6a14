/**
 * The config contract: interpolation, defaults, PORT, every fault listed with its key path,
 * a frozen result; and the real server process: a bad file stops it, a good one serves and
 * drains in-flight streams on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './helpers/wait.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../src/config/load-config.js';
import { freePort } from './helpers/ports.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'konnect-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** The faults of a config that must fail; fails the test when it loads. */
function faultsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).faults;
  }
  throw new Error('the config was accepted');
}

async function faultsOfFile(file: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const err = await loadConfig(file, env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).faults;
}

const mockOnly = {
  providers: { demo: { type: 'mock' } },
  models: [{ name: 'mock', deployments: [{ provider: 'demo', model: 'mock-1' }] }],
};

describe('parseConfig', () => {
  it('interpolates ${VAR} and ${VAR:-default} in every string, nested ones included', () => {
    const config = parseConfig(
      {
        server: { host: '${HOST:-127.0.0.1}', port: '${GW_PORT:-8080}' },
        providers: {
          openai: { type: 'openai', api_key: '${OPENAI_API_KEY}', base_url: 'http://${UP_HOST:-localhost}:${UP_PORT:-1234}/v1' },
          demo: { type: 'mock' },
        },
        models: [{ name: '${GROUP:-fast}', deployments: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      },
      { OPENAI_API_KEY: 'sk-from-env', UP_PORT: '9000', GROUP: '' },
    );
    expect(config.server.host).toBe('127.0.0.1');
    // A string from the environment becomes the number the schema wants.
    expect(config.server.port).toBe(8080);
    expect(config.providers.openai).toMatchObject({ api_key: 'sk-from-env', base_url: 'http://localhost:9000/v1' });
    // An empty variable takes the default.
    expect(config.models[0]?.name).toBe('fast');
  });

  it('an unset ${VAR} without default is a fault naming the key and the variable', () => {
    const faults = faultsOf(() => parseConfig({ providers: { openai: { type: 'openai', api_key: '${NOT_SET_ANYWHERE}' } } }, {}));
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatch(/^\/providers\/openai\/api_key: .*NOT_SET_ANYWHERE/);
    // `${VAR:-}` allows empty.
    expect(parseConfig({ providers: { openai: { type: 'openai', api_key: '${NOT_SET_ANYWHERE:-}' } } }, {}).providers.openai).toMatchObject({ api_key: '' });
  });

  it('applies the defaults', () => {
    const config = parseConfig(mockOnly, {});
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8787, body_limit_mb: 10, shutdown_grace_ms: 10_000, log_level: 'info' });
    expect(config.store.redis_url).toBe('');
    expect(config.auth).toMatchObject({ master_key: '', require_keys: false });
    expect(config.models[0]).toMatchObject({
      name: 'mock',
      strategy: 'weighted',
      retries: 2,
      timeout_ms: 30_000,
      fallbacks: [],
      deployments: [{ provider: 'demo', model: 'mock-1', weight: 1 }],
    });
    expect(config.prompts.dir).toBe('prompts');
    expect(config.services).toEqual([]);
  });

  it('PORT overrides server.port; a PORT that is no port is a fault', () => {
    expect(parseConfig({ ...mockOnly, server: { port: 1234 } }, { PORT: '4321' }).server.port).toBe(4321);
    const faults = faultsOf(() => parseConfig(mockOnly, { PORT: 'eighty' }));
    expect(faults).toEqual([expect.stringMatching(/^PORT: "eighty" is not a port number/)]);
  });

  it('returns a deeply frozen config', () => {
    const config = parseConfig(mockOnly, {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.models[0]?.deployments[0])).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.models as unknown[]).push({});
    }).toThrow(TypeError);
  });

  it('checks references: fallbacks, duplicate groups, openai-compatible without base_url, service prefixes', () => {
    const faults = faultsOf(() =>
      parseConfig(
        {
          providers: { demo: { type: 'mock' }, local: { type: 'openai-compatible' } },
          models: [
            { name: 'a', fallbacks: ['b', 'a'], deployments: [{ provider: 'demo', model: 'm' }] },
            { name: 'a', deployments: [{ provider: 'demo', model: 'm' }] },
          ],
          services: [{ name: 'x', prefix: '/v1/things', targets: [{ url: 'http://127.0.0.1:1' }] }],
        },
        {},
      ),
    );
    expect(faults).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/models\/1\/name: duplicate model group "a"/),
        expect.stringMatching(/^\/models\/0\/fallbacks\/0: unknown model group "b"/),
        expect.stringMatching(/^\/models\/0\/fallbacks\/1: a group cannot fall back to itself/),
        expect.stringMatching(/^\/providers\/local\/base_url: /),
        expect.stringMatching(/^\/services\/0\/prefix: .*collides/),
      ]),
    );
  });
});

describe('loadConfig', () => {
  it('lists every fault of a bad file with its key path', async () => {
    const file = await writeConfig(
      'bad.yaml',
      `
server:
  prot: 8080
providers:
  demo: { type: mock }
models:
  - name: fast
    strategy: round-robin
    deployments:
      - { provider: ghost, model: gpt-4o-mini }
      - { provider: demo, model: mock-1, weight: -2 }
`,
    );
    const faults = await faultsOfFile(file);
    expect(faults).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/server: .*additional properties "prot"/),
        expect.stringMatching(/^\/models\/0\/strategy: .*\(weighted, cost, latency, least-busy, priority\)/),
        expect.stringMatching(/^\/models\/0\/deployments\/1\/weight: must be > 0/),
        expect.stringMatching(/^\/models\/0\/deployments\/0\/provider: unknown provider "ghost"/),
      ]),
    );
    expect(faults).toHaveLength(4);
    // The error message carries them all, one per line.
    const err = await loadConfig(file, {}).catch((e: Error) => e);
    expect((err as Error).message.split('\n')).toHaveLength(5);
  });

  it('an unreadable file is a fault naming the file', async () => {
    const file = join(dir, 'missing.yaml');
    expect(await faultsOfFile(file)).toEqual([`${file}: cannot read (ENOENT)`]);
  });

  it('invalid YAML is a fault naming the file', async () => {
    const file = await writeConfig('broken.yaml', 'server: { port: 8080\nmodels: [\n');
    const faults = await faultsOfFile(file);
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid YAML`));
  });

  it('a YAML file that is not a mapping is a fault', async () => {
    const file = await writeConfig('list.yaml', '- just\n- a list\n');
    expect(await faultsOfFile(file)).toEqual(['/: the config must be a mapping']);
  });

  it('loads the shipped default config offline', async () => {
    const config = await loadConfig('config/gateway.yaml', {});
    expect(config.server.port).toBe(8787);
    expect(config.models.map((m) => m.name)).toContain('mock');
    expect(config.providers.openai).toMatchObject({ api_key: '' });
  });
});

// ---- the server process ----
const TSX = join('node_modules', '.bin', 'tsx');

interface ServerProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `tsx src/server.ts` (what `npm start` runs) with a clean environment. */
function runServer(env: Record<string, string>): ServerProcess {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  const child = spawn(TSX, ['src/server.ts'], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (data: Buffer) => (out += data.toString()));
  child.stderr!.on('data', (data: Buffer) => (err += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitForListening(server: ServerProcess): Promise<void> {
  await eventually(
    () => {
      if (server.child.exitCode !== null) throw new Error(`the server exited: ${server.stderr()}`);
      return server.stdout().includes('listening at');
    },
    { tries: 600, what: 'the server listening' },
  );
}

// Each test starts a process that compiles the project with tsx: seconds on a busy 2-core box.
describe('the server process', { timeout: 40_000 }, () => {
  const started: ServerProcess[] = [];
  afterAll(() => {
    for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  });

  it('exits non-zero on a bad config, printing every fault', async () => {
    const file = await writeConfig(
      'bad-server.yaml',
      'server: { prot: 1 }\nmodels:\n  - { name: x, strategy: nope, deployments: [ { provider: ghost, model: m } ] }\n',
    );
    const server = runServer({ GATEWAY_CONFIG: file });
    started.push(server);
    expect(await server.exited).not.toBe(0);
    const stderr = server.stderr();
    expect(stderr).toContain(file);
    expect(stderr).toContain('/server: must NOT have additional properties "prot"');
    expect(stderr).toContain('/models/0/strategy');
    expect(stderr).toContain('unknown provider "ghost"');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('serves the default config on PORT and answers /health', async () => {
    const port = await freePort();
    const server = runServer({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
    started.push(server);
    await waitForListening(server);
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('ok');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('on SIGTERM lets an in-flight stream finish with [DONE], then exits 0', async () => {
    const file = await writeConfig(
      'slow.yaml',
      `
server: { host: 127.0.0.1, log_level: silent }
providers: { demo: { type: mock, chunk_delay_ms: 100 } }
models: [ { name: mock, deployments: [ { provider: demo, model: mock-1 } ] } ]
`,
    );
    const port = await freePort();
    const server = runServer({ GATEWAY_CONFIG: file, PORT: String(port) });
    started.push(server);
    await waitForListening(server);

    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', stream: true, messages: [{ role: 'user', content: 'one two three four five' }] }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    let signalled = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
      // The stream is under way (about 1.5 s of chunks remain): ask the server to stop.
      if (!signalled && text.includes('"content"')) {
        signalled = true;
        server.child.kill('SIGTERM');
      }
    }
    expect(signalled).toBe(true);
    const said = text
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: {'))
      .map((frame) => (JSON.parse(frame.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
      .join('');
    expect(said).toMatch(/You said: one two three four five$/);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(await server.exited).toBe(0);
  });
});
