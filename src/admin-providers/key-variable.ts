/**
 * Which environment variable would switch a provider on: the `${VAR}` its `api_key` reads, as
 * written in the admin overlay or the config file (the running config holds only the resolved,
 * empty value), else the conventional `<TYPE>_API_KEY`.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { ProviderKind } from '../core/types.js';
import { isRecord } from '../core/is-record.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g;

/** The variables a raw `api_key` value reads, in order. */
export function referencedVariables(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  return [...value.matchAll(REFERENCE)].map((m) => m[1]!);
}

/** `OPENAI_API_KEY` for `openai`, `OPENAI_COMPATIBLE_API_KEY` for `openai-compatible`. */
export function conventionalVariable(kind: ProviderKind): string {
  return `${kind.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_API_KEY`;
}

function rawApiKey(providers: unknown, name: string): unknown {
  if (!isRecord(providers) || !Object.hasOwn(providers, name)) return undefined;
  const entry = providers[name];
  return isRecord(entry) ? entry.api_key : undefined;
}

export interface KeySources {
  /** The provider's entry in the admin overlay, raw; undefined: the overlay does not change it. */
  overlayEntry?: Record<string, unknown> | null;
  /** The config file the gateway started from, if known. */
  configFile?: string | null;
}

/** The environment variable to set for provider `name`, and whether the config names it (else it is the convention). */
export async function keyVariableOf(name: string, kind: ProviderKind, sources: KeySources): Promise<{ variable: string; fromConfig: boolean }> {
  let raw: unknown;
  if (sources.overlayEntry) raw = sources.overlayEntry.api_key;
  else if (sources.configFile) {
    try {
      const parsed: unknown = parseYaml(await readFile(sources.configFile, 'utf8'));
      raw = isRecord(parsed) ? rawApiKey(parsed.providers, name) : undefined;
    } catch {
      raw = undefined; // the file moved or changed since start: fall back to the convention
    }
  }
  const named = referencedVariables(raw)[0];
  return named ? { variable: named, fromConfig: true } : { variable: conventionalVariable(kind), fromConfig: false };
}
