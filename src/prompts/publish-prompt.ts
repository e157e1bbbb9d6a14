/**
 * Publishing and retiring prompts for the admin API: in the shared Redis store when there is
 * one, so every instance serves them, else as files in the prompts dir. Either way the change
 * is served on this instance by the time the call resolves.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { GatewayError } from '../core/errors.js';
import { toParamPath } from '../plugins/error-handler.js';
import { routeOf } from './compile-prompt.js';
import type { PromptCatalog } from './prompt-catalog.js';
import type { Prompt } from './prompt-types.js';

export interface Published {
  prompt: Prompt;
  stored: 'redis' | 'file';
}

function faultError(faults: string[]): GatewayError {
  const first = faults[0] ?? '/: invalid';
  const missing = /must have required property '([^']+)'/.exec(first)?.[1];
  const param = toParamPath(first.slice(0, first.indexOf(':')), missing);
  return new GatewayError('invalid_request', `invalid prompt: ${faults.join('; ')}`, { param });
}

/** Redis failures are the store's, not the caller's: a 503 rather than a 500. */
async function inStore<T>(task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (err) {
    throw new GatewayError('service_unavailable', 'the prompt store (Redis) is unavailable; try again', { cause: err });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Writes atomically (temp file, then rename) so the watcher never reads half a file. A version
 * already on disk is rewritten in place; a new one goes to `<name>.yaml`, or `<name>.v<n>.yaml`.
 */
async function writePromptFile(catalog: PromptCatalog, name: string, version: number, text: string): Promise<void> {
  const { dir } = catalog;
  await mkdir(dir, { recursive: true });
  const existing = catalog.registry.filePrompts(name, version)[0];
  let target = existing?.source.kind === 'file' ? existing.source.path : join(dir, `${name}.yaml`);
  if (!existing && (await exists(target))) target = join(dir, `${name}.v${version}.yaml`);
  const temp = join(dir, `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(temp, text, 'utf8');
  await rename(temp, target);
  catalog.watchDir();
}

/** Validates and stores a prompt. Throws a 400 naming the fault. */
export async function publishPrompt(catalog: PromptCatalog, raw: unknown): Promise<Published> {
  const checked = catalog.compiler.compile(raw, { kind: 'store' });
  if (!checked.ok) throw faultError(checked.faults);
  const { spec } = checked.prompt;
  const route = routeOf(spec);
  const holder = catalog.registry.resolve(route);
  if (holder && holder.spec.name !== spec.name) {
    throw new GatewayError('invalid_request', `invalid prompt: path ${route} is already the route of prompt "${holder.spec.name}"`, { param: 'path' });
  }
  if (catalog.store) {
    const { store } = catalog;
    await inStore(() => store.put(spec));
    await catalog.syncStore();
    return { prompt: catalog.registry.get(spec.name, spec.version) ?? checked.prompt, stored: 'redis' };
  }
  await writePromptFile(catalog, spec.name, spec.version, toYaml(spec));
  await catalog.reloadDir();
  const served = catalog.registry.get(spec.name, spec.version);
  if (!served) throw new GatewayError('internal_error', 'the prompt was written but did not load; GET /admin/prompts shows the fault');
  return { prompt: served, stored: 'file' };
}

/** Retires every version of `name`, or one; answers how many were removed. Throws 404 when there is none. */
export async function retirePrompt(catalog: PromptCatalog, name: string, version?: number): Promise<number> {
  const label = version === undefined ? name : `${name}@${version}`;
  const files = catalog.registry.filePrompts(name, version);
  if (catalog.store) {
    const { store } = catalog;
    const removed = await inStore(() => store.remove(name, version));
    await catalog.syncStore();
    if (removed > 0) return removed;
    if (files.length > 0) {
      // A file is each instance's own copy; the shared store cannot retire it for all of them.
      throw new GatewayError('invalid_request', `prompt ${label} comes from a file in the prompts dir: remove the file on each instance`, {
        param: 'name',
      });
    }
    throw new GatewayError('not_found', `no published prompt ${label}`, { param: 'name' });
  }
  if (files.length === 0) throw new GatewayError('not_found', `no prompt ${label}`, { param: 'name' });
  for (const prompt of files) {
    if (prompt.source.kind !== 'file') continue;
    await unlink(prompt.source.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  await catalog.reloadDir();
  return files.length;
}
