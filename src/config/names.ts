/**
 * The names callers and admins give things (model groups, providers, services, prompts, teams,
 * keys, tags) and the model names clients send. Every such name ends up as a map key, a ledger
 * dimension, a metric label or a URL path segment, so it is bounded and drawn from a small
 * character set, and never one of the names every JavaScript object already has.
 */

/**
 * Names every JavaScript object answers to: as a key, `__proto__` replaces an object's prototype
 * (`out[name] = entry` in a merge) and the others find inherited members instead of nothing.
 */
export const RESERVED_NAMES = ['__proto__', 'constructor', 'prototype'] as const;

/** A regex source that refuses a reserved name, whole: goes right after `^`. */
export const NOT_RESERVED_AHEAD = `(?!(?:${RESERVED_NAMES.join('|')})$)`;

/**
 * JSON Schema keywords to spread into a name's schema: not a reserved name. A pattern of its
 * own under `allOf`, beside the name's own `pattern` rather than folded into it: a name with a
 * wrong character is told the plain pattern it must match, and a reserved one is told
 * `must match pattern "^(?!(?:__proto__|constructor|prototype)$)"`, which names them (a `not`
 * would only say "must NOT be valid").
 */
export const NOT_RESERVED = { allOf: [{ pattern: `^${NOT_RESERVED_AHEAD}` }] };

export function isReservedName(name: string): boolean {
  return (RESERVED_NAMES as readonly string[]).includes(name);
}

/** Longest model name a client may send or an admin may give a model group, characters. */
export const MODEL_NAME_MAX = 256;

/**
 * A model name as clients send it: a group name, or `<provider>/<model>`. ASCII letters, digits
 * and `._:/@+-` cover every vendor's ids (`gpt-4o-2024-08-06`, `qwen2.5:0.5b`,
 * `meta-llama/Llama-3.1-8B-Instruct`, `claude-3-5-haiku@20241022`); no spaces, no control
 * characters, nothing a URL or a log line gives meaning to (`?`, `#`, `%`, quotes).
 */
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9._:/@+-]+$';

/** A model group's name: a model name without `/`, which addresses a provider's model directly. */
export const GROUP_NAME_PATTERN = '^[A-Za-z0-9._:@+-]+$';

const MODEL_NAME = new RegExp(MODEL_NAME_PATTERN);

/** True for a name the request schemas accept as `model`. */
export function isModelName(name: string): boolean {
  return name.length > 0 && name.length <= MODEL_NAME_MAX && MODEL_NAME.test(name) && !isReservedName(name);
}

/** What the ledger and metrics record in place of a name the gateway does not serve. */
export const UNKNOWN_NAME = 'unknown';
