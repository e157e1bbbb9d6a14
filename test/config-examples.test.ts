/**
 * Every config the repository ships loads: config/gateway.yaml, config/deploy/gateway*.yaml and each
 * file in config/examples/ (which the docs point readers to), with dummy values for the keys
 * and passwords a reader would set in the environment.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load-config.js';
import { dummySecrets, readYamlFile } from './helpers/doc-gateway.js';

const root = join(import.meta.dirname, '..');
const yamlIn = (dir: string) => readdirSync(join(root, dir)).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => `${dir}/${f}`);
const files = ['config/gateway.yaml', ...yamlIn('config/deploy').filter((f) => f.includes('/gateway')), ...yamlIn('config/examples')];

describe('shipped configs', () => {
  it('include the examples', () => {
    expect(files.filter((f) => f.startsWith('config/examples/')).length).toBeGreaterThan(1);
  });

  for (const file of files) {
    it(`${file} validates`, () => {
      try {
        parseConfig(readYamlFile(join(root, file)), dummySecrets({ GATEWAY_MASTER_KEY: 'sk-admin-0123456789abcdef' }));
      } catch (err) {
        if (err instanceof ConfigError) throw new Error(`${file}:\n  - ${err.faults.join('\n  - ')}`);
        throw err;
      }
    });
  }
});
