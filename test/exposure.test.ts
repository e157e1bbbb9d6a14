/** Safe defaults: the gateway listens on loopback unless told otherwise, and says so when it is exposed. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config/load-config.js';
import { exposureOf } from '../src/exposure.js';

describe('exposure at start-up', () => {
  it('listens on 127.0.0.1 with the default config and with no server block', async () => {
    expect((await loadConfig('config/gateway.yaml', {})).server.host).toBe('127.0.0.1');
    expect(parseConfig({}, {}).server.host).toBe('127.0.0.1');
    expect(exposureOf(parseConfig({}, {}), {})).toEqual({});
  });

  it('warns in one line beyond loopback without a master key or without require_keys', () => {
    const open = exposureOf(parseConfig({ server: { host: '0.0.0.0' } }, {}), {});
    expect(open.warn).toMatch(/0\.0\.0\.0.*no master key.*require_keys is false/);
    const keyed = exposureOf(parseConfig({ server: { host: '0.0.0.0' }, auth: { master_key: 'mk-0123456789', require_keys: true } }, {}), {});
    expect(keyed).toEqual({});
  });

  it('refuses to start when the environment demands a master key and none is set', async () => {
    expect(exposureOf(parseConfig({}, {}), { GATEWAY_REQUIRE_MASTER_KEY: '1' }).refuse).toMatch(/GATEWAY_MASTER_KEY/);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, GATEWAY_REQUIRE_MASTER_KEY: '1', GATEWAY_MASTER_KEY: '', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (part: Buffer) => (stderr += part.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/no master key is set/);
  });
});
