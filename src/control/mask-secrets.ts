/**
 * Masks secrets in config shown by `GET /admin/config` and written to the audit log. Masking goes
 * by where a value sits, not by what it is called, because names cannot be listed in advance
 * (`x-upstream-pass`, `x-ms-sas`, `?sig=`, `?code=`, a token as a URL's user name):
 * - every `api_key`, at any depth;
 * - every header value the gateway sends upstream: provider `headers`, service `request_headers.set`;
 * - in every URL anywhere in the config: the user name, the password and every query value;
 * - the master key, the Sentinel password, and budget webhooks (the path is the credential).
 * A `${VAR}` reference is no secret and is shown as written (its default value is masked).
 */
import { isRecord } from '../core/is-record.js';
import { rewriteQuery } from '../http/redact-url.js';
import { SECTIONS, type Section } from './overlay.js';

type Loose = Record<string, unknown>;

const MASK = '****';
const REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;
/** scheme `://` [userinfo `@`] host and path [`?` query] [`#` fragment]; userinfo runs to the authority's last `@`. */
const URL_PARTS = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(?:([^/?#]*)@)?([^?#]*)(?:\?([^#]*))?(#.*)?$/s;

/**
 * `****`, plus the last four characters of a long API key when `hint` (enough to tell two keys
 * apart; passwords and the master key get none); '' stays ''. A masked value stays as it is, so
 * masking again (audit entries written by an older gateway are masked once more when read) keeps
 * the hint.
 */
export function maskSecret(value: unknown, hint = true): unknown {
  if (typeof value !== 'string' || value === '' || value.startsWith(MASK)) return value;
  const reference = REFERENCE.exec(value);
  if (reference) return reference[2] ? `\${${reference[1]}:-${MASK}}` : value;
  return hint && value.length >= 16 ? `${MASK}${value.slice(-4)}` : MASK;
}

/** A part of a URL (user name, password, query value) masked without a hint: they are often short. */
function maskPart(value: string): string {
  return maskSecret(value, false) as string;
}

/**
 * A URL with its user name, password and every query value masked, worked on the text as written
 * so `${VAR}` parts and encodings stay readable; a string that is no `scheme://` URL is returned as is.
 */
function maskUrlText(value: string): string {
  if (REFERENCE.test(value)) return value;
  const parts = URL_PARTS.exec(value);
  if (!parts) return value;
  const [, scheme, userinfo, rest, query, fragment] = parts;
  let out = scheme!;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    out += colon === -1 ? `${maskPart(userinfo)}@` : `${maskPart(userinfo.slice(0, colon))}:${maskPart(userinfo.slice(colon + 1))}@`;
  }
  out += rest!;
  // A part without `=` may be the credential itself (`?AbC123…`): it is masked whole.
  if (query !== undefined) out += `?${rewriteQuery(query, (name, v) => maskPart(v ?? name))}`;
  return out + (fragment ?? '');
}

/**
 * A configured URL (base_url, redis_url, a target): user name, password and query values masked.
 * Where a URL was expected but the text does not parse, an `@` means credentials: all masked.
 */
export function maskUrl(value: unknown): unknown {
  if (typeof value !== 'string' || value === '' || REFERENCE.test(value)) return value;
  if (URL_PARTS.test(value)) return maskUrlText(value);
  return value.includes('@') ? MASK : value;
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

/**
 * Any config value with the rules that hold at every depth: `api_key` masked, every string that is
 * a `scheme://` URL masked. Other strings (model names such as `claude@2024`) stay as they are.
 */
function maskAnywhere(value: unknown): unknown {
  if (typeof value === 'string') return maskUrlText(value);
  if (Array.isArray(value)) return value.map(maskAnywhere);
  if (!isRecord(value)) return value;
  const out: Loose = {};
  for (const [name, item] of Object.entries(value)) out[name] = name === 'api_key' ? maskSecret(item) : maskAnywhere(item);
  return out;
}

/** Every value of a header map: what goes upstream may be a credential whatever its name. */
function maskHeaderValues(headers: unknown): unknown {
  if (!isRecord(headers)) return headers;
  const out: Loose = {};
  for (const [name, value] of Object.entries(headers)) out[name] = maskSecret(value);
  return out;
}

export function maskProvider(provider: unknown): unknown {
  if (!isRecord(provider)) return provider;
  const out = maskAnywhere(provider) as Loose;
  if ('base_url' in provider) out.base_url = maskUrl(provider.base_url);
  if ('headers' in provider) out.headers = maskHeaderValues(provider.headers);
  return out;
}

export function maskService(service: unknown): unknown {
  if (!isRecord(service)) return service;
  const out = maskAnywhere(service) as Loose;
  // Only request headers go upstream; response headers are sent to every caller anyway.
  const changes = service.request_headers;
  if (isRecord(changes) && 'set' in changes) out.request_headers = { ...(out.request_headers as Loose), set: maskHeaderValues(changes.set) };
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
      return maskAnywhere(entry);
    default: {
      const unreachable: never = section;
      return unreachable;
    }
  }
}

/** A whole config (raw or parsed), masked; the input is not changed. */
export function maskConfig(config: object): Loose {
  const source = config as Loose;
  const out = maskAnywhere(source) as Loose;
  if (isRecord(source.store)) {
    const store: Loose = { ...(out.store as Loose), redis_url: maskUrl(source.store.redis_url) };
    if ('sentinel_password' in store) store.sentinel_password = maskSecret(source.store.sentinel_password, false);
    out.store = store;
  }
  if (isRecord(source.auth)) {
    out.auth = { ...(out.auth as Loose), master_key: maskSecret(source.auth.master_key, false), budget_alert_webhook: maskWebhook(source.auth.budget_alert_webhook) };
  }
  if (isRecord(source.providers)) {
    out.providers = Object.fromEntries(Object.entries(source.providers).map(([name, p]) => [name, maskProvider(p)]));
  }
  if (Array.isArray(source.services)) out.services = source.services.map(maskService);
  return out;
}

/**
 * An audit entry as the admin API shows it: a config change's `before` and `after` masked again
 * by the rules above, as entries written by an older gateway were masked by a list of names.
 */
export function maskAuditEntry<T extends { action: string; details?: Record<string, unknown> }>(entry: T): T {
  const section = SECTIONS.find((name) => entry.action.startsWith(`config.${name}.`));
  const { details } = entry;
  if (!section || !details) return entry;
  return { ...entry, details: { ...details, before: maskEntry(section, details.before), after: maskEntry(section, details.after) } };
}
