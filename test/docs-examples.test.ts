/**
 * Docs that run: every shell, JS and TS example in README.md and docs/*.md runs, as written,
 * against a gateway started from the config its page names (docs/development.md explains the
 * markers). YAML blocks must validate as gateway config (or be found in the file they quote),
 * JSON blocks must parse. Each example is one test named after its page and line.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load-config.js';
import { containedIn, parseDocPage, withPort, type DocBlock, type DocPage } from './helpers/doc-blocks.js';
import { dummySecrets, overlay, readYamlFile, startDocGateway, type DocGateway } from './helpers/doc-gateway.js';
import { exampleEnv, runScript, runShell, type RunResult } from './helpers/doc-runner.js';

const root = join(import.meta.dirname, '..');
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

// Under node_modules so example scripts resolve the repository's packages, and git ignores them.
const cacheDir = join(root, 'node_modules', '.cache');
mkdirSync(cacheDir, { recursive: true });
const scratch = mkdtempSync(join(cacheDir, 'docs-examples-'));
// Shell examples run outside the checkout: files they write (`> prompts.openapi.json`) land here.
const shellCwd = mkdtempSync(join(tmpdir(), 'konnect-docs-sh-'));

// Pages with the same config and environment share one gateway.
const gateways = new Map<string, Promise<DocGateway>>();
function gatewayFor(page: DocPage): Promise<DocGateway> {
  const key = JSON.stringify([page.config, page.env]);
  let started = gateways.get(key);
  if (!started) {
    started = startDocGateway(join(root, page.config), page.env);
    gateways.set(key, started);
  }
  return started;
}

afterAll(async () => {
  await Promise.all([...gateways.values()].map(async (g) => (await g).close()));
  rmSync(scratch, { recursive: true, force: true });
  rmSync(shellCwd, { recursive: true, force: true });
});

function explain(result: RunResult): string {
  return `exit ${result.code}\n${result.output.slice(-4000)}`;
}

function checkConfigBlock(page: DocPage, block: DocBlock): void {
  const parsed: unknown = parseYaml(block.text);
  if (block.excerpt) {
    expect(containedIn(parsed, readYamlFile(join(root, block.excerpt))), `not found as written in ${block.excerpt}`).toBe(true);
    return;
  }
  try {
    parseConfig(overlay(readYamlFile(join(root, page.config)), parsed), dummySecrets(page.env));
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`laid over ${page.config}, the snippet does not validate:\n  - ${err.faults.join('\n  - ')}`);
    throw err;
  }
}

for (const file of pages) {
  const page = parseDocPage(join(root, file));
  const runnable = page.blocks.filter((b) => !b.skip && (b.kind === 'shell' || b.kind === 'js' || b.kind === 'ts'));
  if (page.blocks.every((b) => b.kind === 'other')) continue;

  describe(file, () => {
    let gateway: DocGateway;
    let lastOutput: string | undefined;
    const slug = file.replace(/[^A-Za-z0-9]+/g, '-');
    const stateFile = join(scratch, `${slug}.state`);
    const env = { ...exampleEnv(page.env) };

    beforeAll(async () => {
      if (runnable.length > 0) gateway = await gatewayFor(page);
    });

    page.blocks.forEach((block, index) => {
      if (block.kind === 'other') return;
      const name = `${file}: block ${index + 1} (line ${block.line})`;
      if (block.skip) {
        it.skip(`${name}: ${block.skip}`, () => undefined);
        return;
      }
      if (block.kind === 'yaml') {
        it(name, () => checkConfigBlock(page, block));
        return;
      }
      if (block.kind === 'json') {
        it(name, () => {
          const shown: unknown = JSON.parse(block.text);
          if (!block.output) return;
          expect(lastOutput, 'no shell block before it printed an answer').toBeDefined();
          const actual: unknown = JSON.parse(lastOutput ?? 'null');
          expect(containedIn(shown, actual, true), `the answer shown is not what the gateway printed:\n${lastOutput}`).toBe(true);
        });
        return;
      }
      const kind = block.kind;
      it(name, async () => {
        const text = withPort(block.text, gateway.port);
        const opts = { dir: scratch, name: `${slug}-${index + 1}`, env };
        const result = kind === 'shell'
          ? await runShell(text, { ...opts, cwd: shellCwd, stateFile, expectError: block.expectError })
          : await runScript(text, kind, { ...opts, cwd: root });
        expect(result.code, explain(result)).toBe(0);
        lastOutput = result.output;
        if (block.expectError) expect(result.output, 'the example shows an error, but none came back').toMatch(/"error"/);
      });
    });
  });
}
