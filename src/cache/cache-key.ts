/**
 * The exact-match cache key: a SHA-256 over the canonical form of everything that changes the
 * answer (docs/caching-and-guardrails.md). Object keys are sorted, so `{a, b}` and `{b, a}`
 * are one request; unknown fields that pass through to OpenAI-compatible upstreams count too.
 */
import { createHash } from 'node:crypto';
import type { ChatRequest } from '../core/types.js';

/** Fields that change how an answer is delivered or attributed, never what it says. */
const IGNORED = new Set(['model', 'stream', 'stream_options', 'user']);

/** Bumped when the stored answer's shape changes, so old entries stop matching. */
const KEY_VERSION = 'v1';

/** JSON with object keys sorted at every depth; undefined members left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const record = value as Record<string, unknown>;
  let out = '';
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${out ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `{${out}}`;
}

/** The key of `req` sent to `group` (the model group the client named), within `namespace`. */
export function cacheKey(namespace: string, group: string, req: ChatRequest): string {
  // One string, hashed in one call: each `update` crosses into native code.
  let text = `${KEY_VERSION}\n${namespace}\n${group}\n`;
  const record = req as unknown as Record<string, unknown>;
  for (const key of Object.keys(record).sort()) {
    if (IGNORED.has(key) || record[key] === undefined) continue;
    text += `${JSON.stringify(key)}:${canonicalJson(record[key])}\n`;
  }
  return createHash('sha256').update(text).digest('base64url');
}
