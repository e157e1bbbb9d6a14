import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { isRecord } from '../core/is-record.js';
import type { GatewayConfig } from './types.js';
import { checkSchema } from './validate-config.js';

/** A config that cannot be used; `faults` names every problem with its key path. */
export class ConfigError extends Error {
  constructor(readonly faults: string[]) {
    super(`invalid gateway config:\n  - ${faults.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces `${VAR}` and `${VAR:-default}` in every string value; unset `${VAR}` is a fault. */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, path: string, faults: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      if (found === '') return '';
      faults.push(`${path || '/'}: environment variable ${name} is not set (write \${${name}:-} to allow empty)`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateEnv(item, env, `${path}/${i}`, faults));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // defineProperty: a `__proto__` key from YAML stays a key (and the schema refuses it), never a prototype.
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, key, { value: interpolateEnv(item, env, `${path}/${key}`, faults), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

type Loose = Record<string, unknown>;

/** The mapping items of a list with their positions; anything else yields nothing. */
function itemsOf(value: unknown): Array<[number, Loose]> {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item, i): Array<[number, Loose]> => (isRecord(item) ? [[i, item]] : []));
}

/**
 * Cross-references the schema cannot express. Every access is guarded so it also runs on data
 * that failed the schema: one run reports schema and reference faults together.
 */
function checkReferences(data: Loose, faults: string[]): void {
  const providers = isRecord(data.providers) ? data.providers : {};
  const groups = itemsOf(data.models);
  const groupNames = new Set<string>();
  for (const [i, group] of groups) {
    if (typeof group.name !== 'string') continue;
    if (groupNames.has(group.name)) faults.push(`/models/${i}/name: duplicate model group "${group.name}"`);
    groupNames.add(group.name);
  }
  for (const [i, group] of groups) {
    for (const [j, d] of itemsOf(group.deployments)) {
      if (typeof d.provider === 'string' && !Object.hasOwn(providers, d.provider)) {
        faults.push(`/models/${i}/deployments/${j}/provider: unknown provider "${d.provider}" (not under providers:)`);
      }
    }
    const fallbacks: unknown[] = Array.isArray(group.fallbacks) ? group.fallbacks : [];
    fallbacks.forEach((name, j) => {
      if (typeof name !== 'string') return;
      if (!groupNames.has(name)) faults.push(`/models/${i}/fallbacks/${j}: unknown model group "${name}"`);
      if (name === group.name) faults.push(`/models/${i}/fallbacks/${j}: a group cannot fall back to itself`);
    });
    const downgrade = isRecord(group.budget_fallback) ? group.budget_fallback.group : undefined;
    if (typeof downgrade === 'string') {
      if (!groupNames.has(downgrade)) faults.push(`/models/${i}/budget_fallback/group: unknown model group "${downgrade}"`);
      if (downgrade === group.name) faults.push(`/models/${i}/budget_fallback/group: a group cannot fall back to itself`);
    }
  }
  for (const name of Object.keys(providers)) {
    if (name.includes('/')) faults.push(`/providers/${name}: a provider name cannot contain "/"`);
  }
  const store = isRecord(data.store) ? data.store : {};
  const hasNodes = (value: unknown) => Array.isArray(value) && value.length > 0;
  if (hasNodes(store.sentinels) && hasNodes(store.cluster_nodes)) faults.push('/store: set sentinels or cluster_nodes, not both');
  if (hasNodes(store.sentinels) && !store.sentinel_name) faults.push('/store/sentinel_name: required with sentinels (the master name)');
  const prefixes = new Set<string>();
  for (const [i, s] of itemsOf(data.services)) {
    if (typeof s.prefix !== 'string') continue;
    if (prefixes.has(s.prefix)) faults.push(`/services/${i}/prefix: duplicate prefix "${s.prefix}"`);
    prefixes.add(s.prefix);
    if (/^\/(v1|admin|prompts|health|metrics|ui)(\/|$)/.test(s.prefix)) {
      faults.push(`/services/${i}/prefix: "${s.prefix}" collides with a gateway route`);
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/** Validates a parsed config object (already YAML-parsed), applying env interpolation and defaults. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const faults: string[] = [];
  const data = interpolateEnv(raw ?? {}, env, '', faults);
  if (!isRecord(data)) {
    throw new ConfigError(['/: the config must be a mapping']);
  }
  const checked = checkSchema(data);
  if (!checked.ok) faults.push(...checked.faults);
  if (env.PORT) {
    const port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) faults.push(`PORT: "${env.PORT}" is not a port number`);
    else if (isRecord(data.server)) data.server.port = port;
  }
  checkReferences(data, faults);
  if (!checked.ok || faults.length > 0) throw new ConfigError(faults);
  return deepFreeze(checked.config);
}

/** Reads, interpolates, validates and freezes the config file. */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseConfig(raw, env);
}
