/**
 * docs/configuration-reference.md is generated from the config schema: the committed page must
 * be what the generator writes today, every key must carry a description, and every key of a
 * loaded config must be on the page, so a key added to the schema cannot go undocumented.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { describeConfigSchema } from '../src/config/describe-schema.js';
import { parseConfig } from '../src/config/load-config.js';
import { gatewayConfigSchema } from '../src/config/schema.js';

const PAGE = new URL('../docs/configuration-reference.md', import.meta.url);
const generated = describeConfigSchema(gatewayConfigSchema);

/** The reference's rows as [key, description]. */
function rowsOf(page: string): Array<[string, string]> {
  return page
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
      return [(cells[1] ?? '').replace(/`/g, ''), cells[5] ?? ''];
    });
}

/** Every key path of a loaded config, in the page's notation (`models[].deployments[].weight`). */
function pathsOf(value: unknown, path: string, out: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) pathsOf(item, `${path}[]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      // Provider names are the config's own; the page writes them as `<name>`.
      const segment = path === 'providers' ? '<name>' : key;
      const child = path ? `${path}.${segment}` : segment;
      // Objects have their keys' rows (sections and `<name>` entries none of their own); maps of strings are one row.
      const isObject = item !== null && typeof item === 'object' && !Array.isArray(item);
      if (!isObject || child.endsWith('.headers')) out.add(child);
      if (!child.endsWith('.headers')) pathsOf(item, child, out);
    }
  }
  return out;
}

describe('configuration reference', () => {
  it('is the generator output (run `npm run docs:config` after changing the config schema)', async () => {
    const committed = await readFile(PAGE, 'utf8');
    expect(committed, 'docs/configuration-reference.md is stale: run `npm run docs:config` and commit the result').toBe(generated);
  });

  it('describes every key', () => {
    // A top-level map or list (providers, models, services) is described in its section's intro.
    const undescribed = rowsOf(generated).filter(([key, text]) => text === '' && /[.[]/.test(key));
    expect(undescribed.map(([key]) => key), 'add a `description` to these keys in src/config/*-schema.ts').toEqual([]);
  });

  it('lists every key of the shipped configs, with their defaults filled in', async () => {
    const keys = new Set(rowsOf(generated).map(([key]) => key));
    for (const file of ['config/gateway.yaml', 'config/examples/multi-provider.yaml']) {
      const raw: unknown = parseYaml(await readFile(new URL(`../${file}`, import.meta.url), 'utf8'));
      const env = { GATEWAY_MASTER_KEY: 'm', OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k', GEMINI_API_KEY: 'k', GROQ_API_KEY: 'k' };
      const missing = [...pathsOf(parseConfig(raw, env), '', new Set())].filter((key) => !keys.has(key));
      expect(missing, file).toEqual([]);
    }
  });

  it('names the variants a provider key belongs to, and the allowed values and ranges', () => {
    expect(generated).toContain('| `providers.<name>.type` | string | **required** | `openai`, `openai-compatible`, `anthropic`, `gemini`, `mock` |');
    expect(generated).toContain('| `models[].deployments[].weight` | number | `1` | > 0 |');
    expect(generated).toContain('| `server.port` | integer | `8787` | 0 to 65535 |');
    expect(generated).toMatch(/\| `providers\.<name>\.latency_ms` \|[^\n]*\*`mock` only:\*/);
  });
});
