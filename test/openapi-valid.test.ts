/**
 * `GET /openapi.json` of a gateway started from the shipped config and prompts is a valid
 * OpenAPI 3.1 document for a real validator, and the client generator docs/prompt-apis.md
 * names turns it into types.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const root = resolve(import.meta.dirname, '..');

let gw: TestGateway;
let served: Record<string, unknown>;

beforeAll(async () => {
  const shipped = parseYaml(readFileSync(join(root, 'config/gateway.yaml'), 'utf8')) as Record<string, unknown>;
  gw = await startGateway({ ...shipped, server: { ...(shipped.server as object), log_level: 'silent' }, prompts: { dir: join(root, 'prompts') } });
  const res = await fetch(`${gw.url}/openapi.json`);
  expect(res.status).toBe(200);
  served = (await res.json()) as Record<string, unknown>;
});
afterAll(async () => {
  await gw?.close();
});

describe('/openapi.json', () => {
  test('describes every shipped prompt', () => {
    expect(Object.keys(served.paths as object)).toEqual(
      expect.arrayContaining(['/prompts', '/prompts/sentiment', '/prompts/sentiment@1', '/prompts/extract-contact', '/prompts/summarize', '/prompts/translate']),
    );
  });

  test('validates as OpenAPI 3.1', async () => {
    // The validator resolves $refs in place: give it a copy.
    const result = await validate(structuredClone(served) as never);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    expect(result.warnings).toEqual([]);
  });

  test('openapi-typescript generates a client type for each prompt route', async () => {
    const types = astToString(await openapiTS(structuredClone(served) as never));
    expect(types).toContain('"/prompts/sentiment": {');
    expect(types).toContain('"/prompts/extract-contact": {');
    expect(types).toContain('"text/event-stream": string');
  });
});
