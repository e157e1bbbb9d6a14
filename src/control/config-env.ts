/**
 * Which environment variables a config change made through the admin API may read as `${VAR}`
 * (`auth.config_env`). Without a limit, whoever holds the master key could read any variable of
 * the gateway's process: name it as a provider's `api_key` or header, point `base_url` at a
 * server of their own, and send one call. The config file's own `${VAR}`s are resolved at load
 * and are not limited.
 */

/** Never resolved for a change, whatever `auth.config_env` says: it would hand out the admin API itself. */
export const MASTER_KEY_VAR = 'GATEWAY_MASTER_KEY';

/** `${VAR}` and `${VAR:-default}`, the grammar of `interpolateEnv` in src/config/load-config.ts. */
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g;

/** Answers whether a change may read the variable `name`. */
export type EnvAllowList = (name: string) => boolean;

/** A glob over variable names (`*` any run, `?` one character) as an anchored RegExp. */
function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`);
}

/**
 * The allow-list of `patterns`. Also refused: any variable whose value is the master key, so
 * the key cannot be read back under another name a pattern happens to match.
 */
export function createEnvAllowList(patterns: readonly string[], masterKey: string, env: NodeJS.ProcessEnv): EnvAllowList {
  const globs = patterns.map(globToRegExp);
  return (name) => name !== MASTER_KEY_VAR && globs.some((glob) => glob.test(name)) && !(masterKey !== '' && env[name] === masterKey);
}

/** `env` with only the variables `allows` passes: what the control plane interpolates changes with. */
export function allowedEnv(env: NodeJS.ProcessEnv, allows: EnvAllowList): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (allows(name)) out[name] = value;
  return out;
}

export interface RefusedReference {
  /** Key path of the string that names it, as config faults write it (`/providers/x/api_key`). */
  path: string;
  name: string;
}

/** Every `${VAR}` in the strings of `value` that `allows` refuses, with where it is. */
export function refusedReferences(value: unknown, allows: EnvAllowList, path: string): RefusedReference[] {
  if (typeof value === 'string') {
    return [...value.matchAll(REFERENCE)].flatMap((match) => (allows(match[1]!) ? [] : [{ path: path || '/', name: match[1]! }]));
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => refusedReferences(item, allows, `${path}/${i}`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => refusedReferences(item, allows, `${path}/${key}`));
  }
  return [];
}

/** One fault line per refused reference, naming the variable and how to allow it. */
export function describeRefused(refused: readonly RefusedReference[], patterns: readonly string[]): string[] {
  const allowed = patterns.length > 0 ? patterns.join(', ') : 'none';
  return refused.map(
    ({ path, name }) =>
      `${path}: \${${name}} is not an environment variable config changes may read (auth.config_env allows ${allowed}; never ${MASTER_KEY_VAR} or the master key's value)`,
  );
}
