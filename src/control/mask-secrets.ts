/**
 * Masks secrets in config shown by `GET /admin/config` and written to the audit log: API keys,
 * the master key, passwords in Redis and provider URLs, credential-like headers, webhook URLs.
 * A `${VAR}` reference is no secret and is shown as written (its default value is masked).
 */
import { isRecord } from '../core/is-record.js';
import type { Section } from './overlay.js';

type Loose = Record<string, unknown>;

const MASK = '****';
/** Header and query names that carry credentials. */
const SENSITIVE_NAME = /auth|key|token|secret|password|passwd|cookie|signature|credential|session/i;
const REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

/**
 * `****`, plus the last four characters of a long API key when `hint` (enough to tell two keys
 * apart; passwords and the master key get none); '' stays ''.
 */
export function maskSecret(value: unknown, hint = true): unknown {
  if (typeof value !== 'string' || value === '') return value;
  const reference = REFERENCE.exec(value);
  if (reference) return reference[2] ? `\${${reference[1]}:-${MASK}}` : value;
  return hint && value.length >= 16 ? `${MASK}${value.slice(-4)}` : MASK;
}

/** A URL with its password and credential-like query values masked. */
export function maskUrl(value: unknown): unknown {
  if (typeof value !== 'string' || value === '' || REFERENCE.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value.includes('@') ? MASK : value;
  }
  let changed = false;
  if (url.password) {
    url.password = MASK;
    changed = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SENSITIVE_NAME.test(name)) {
      url.searchParams.set(name, MASK);
      changed = true;
    }
  }
  return changed ? url.toString() : value;
}

/** A webhook URL is itself the credential (Slack, Teams…): only its origin is shown. */
export function maskWebhook(value: unknown): unknown {
  if (typeof value !== 'string' || value === '' || REFERENCE.test(value)) return value;
  try {
    const url = new URL(value);
    return url.pathname === '/' && !url.search && !url.username ? `${url.origin}/` : `${url.protocol}//${url.host}/${MASK}`;
  } catch {
    return MASK;
  }
}

function maskHeaders(headers: unknown): unknown {
  if (!isRecord(headers)) return headers;
  const out: Loose = {};
  for (const [name, value] of Object.entries(headers)) out[name] = SENSITIVE_NAME.test(name) ? maskSecret(value) : value;
  return out;
}

function maskHeaderChanges(changes: unknown): unknown {
  if (!isRecord(changes) || !isRecord(changes.set)) return changes;
  return { ...changes, set: maskHeaders(changes.set) };
}

export function maskProvider(provider: unknown): unknown {
  if (!isRecord(provider)) return provider;
  const out: Loose = { ...provider };
  if ('api_key' in out) out.api_key = maskSecret(out.api_key);
  if ('base_url' in out) out.base_url = maskUrl(out.base_url);
  if ('headers' in out) out.headers = maskHeaders(out.headers);
  return out;
}

export function maskService(service: unknown): unknown {
  if (!isRecord(service)) return service;
  const out: Loose = { ...service };
  if ('request_headers' in out) out.request_headers = maskHeaderChanges(out.request_headers);
  if ('response_headers' in out) out.response_headers = maskHeaderChanges(out.response_headers);
  if (Array.isArray(out.targets)) out.targets = out.targets.map((t: unknown) => (isRecord(t) ? { ...t, url: maskUrl(t.url) } : t));
  return out;
}

/** One overlay or config entry of `section`, masked. */
export function maskEntry(section: Section, entry: unknown): unknown {
  switch (section) {
    case 'providers':
      return maskProvider(entry);
    case 'services':
      return maskService(entry);
    case 'models':
      return entry;
    default: {
      const unreachable: never = section;
      return unreachable;
    }
  }
}

/** A whole config (raw or parsed), masked; the input is not changed. */
export function maskConfig(config: object): Loose {
  const source = config as Loose;
  const out: Loose = { ...source };
  if (isRecord(source.store)) {
    const store: Loose = { ...source.store, redis_url: maskUrl(source.store.redis_url) };
    if ('sentinel_password' in store) store.sentinel_password = maskSecret(store.sentinel_password, false);
    out.store = store;
  }
  if (isRecord(source.auth)) {
    out.auth = { ...source.auth, master_key: maskSecret(source.auth.master_key, false), budget_alert_webhook: maskWebhook(source.auth.budget_alert_webhook) };
  }
  if (isRecord(source.providers)) {
    out.providers = Object.fromEntries(Object.entries(source.providers).map(([name, p]) => [name, maskProvider(p)]));
  }
  if (Array.isArray(source.services)) out.services = source.services.map(maskService);
  return out;
}
