/**
 * The overlay: model groups, services and providers changed through the admin API, applied on
 * top of the config file (the seed). Each entry is stored raw, as the API received it, so
 * `${VAR}` references are resolved by every instance from its own environment; a deletion is
 * stored too (as null), so an entry the file defines stays deleted.
 */
import { isRecord } from '../core/is-record.js';

export type Section = 'models' | 'services' | 'providers';

export const SECTIONS: readonly Section[] = ['models', 'services', 'providers'];

/** One stored change: the entry as given, or null for a deletion. */
export type OverlayEntry = Record<string, unknown> | null;

/** `<section>/<name>` → entry. */
export type Overlay = ReadonlyMap<string, OverlayEntry>;

export const EMPTY_OVERLAY: Overlay = new Map();

export function overlayField(section: Section, name: string): string {
  return `${section}/${name}`;
}

export function parseOverlayField(field: string): { section: Section; name: string } | undefined {
  const slash = field.indexOf('/');
  const section = field.slice(0, slash) as Section;
  if (slash <= 0 || !SECTIONS.includes(section)) return undefined;
  return { section, name: field.slice(slash + 1) };
}

type Loose = Record<string, unknown>;

/** The overlay's entries of one section, by name. */
function sectionOf(overlay: Overlay, section: Section): Map<string, OverlayEntry> {
  const out = new Map<string, OverlayEntry>();
  for (const [field, entry] of overlay) {
    const parsed = parseOverlayField(field);
    if (parsed?.section === section) out.set(parsed.name, entry);
  }
  return out;
}

/** A named list (models, services): file order kept, changed items replaced in place, new ones appended by name. */
function mergeList(seed: unknown, changes: Map<string, OverlayEntry>): unknown[] {
  const items = Array.isArray(seed) ? seed : [];
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const name = isRecord(item) && typeof item.name === 'string' ? item.name : undefined;
    if (name === undefined || !changes.has(name)) {
      out.push(item);
      continue;
    }
    seen.add(name);
    const entry = changes.get(name);
    if (entry) out.push({ ...entry, name });
  }
  const added = [...changes].filter(([name, entry]) => entry && !seen.has(name)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, entry] of added) out.push({ ...entry, name });
  return out;
}

function mergeMap(seed: unknown, changes: Map<string, OverlayEntry>): Loose {
  const out: Loose = { ...(isRecord(seed) ? seed : {}) };
  for (const [name, entry] of changes) {
    // A stored entry named `__proto__` must not become the map's prototype; the schema refuses the name.
    if (entry) Object.defineProperty(out, name, { value: entry, enumerable: true, writable: true, configurable: true });
    else delete out[name];
  }
  return out;
}

/** The raw config that results from the overlay applied to `seed` (a config object as in the file). */
export function applyOverlay(seed: Loose, overlay: Overlay): Loose {
  if (overlay.size === 0) return seed;
  return {
    ...seed,
    models: mergeList(seed.models, sectionOf(overlay, 'models')),
    services: mergeList(seed.services, sectionOf(overlay, 'services')),
    providers: mergeMap(seed.providers, sectionOf(overlay, 'providers')),
  };
}

/** The entry `name` of `section` in a (raw or parsed) config, or undefined. */
export function entryOf(config: Loose, section: Section, name: string): Loose | undefined {
  const value = config[section];
  if (section === 'providers') {
    const entry = isRecord(value) && Object.hasOwn(value, name) ? value[name] : undefined;
    return isRecord(entry) ? entry : undefined;
  }
  if (!Array.isArray(value)) return undefined;
  return value.find((item): item is Loose => isRecord(item) && item.name === name);
}

/**
 * Config faults name list items by position (`/models/3/...`); a caller who changed a group by
 * name reads them better as `/models/<name>/...`.
 */
export function faultsByName(faults: readonly string[], config: Loose): string[] {
  return faults.map((fault) =>
    fault.replace(/^\/(models|services)\/(\d+)(?=[/:]|$)/, (whole, section: string, index: string) => {
      const list = config[section];
      const item = Array.isArray(list) ? list[Number(index)] : undefined;
      return isRecord(item) && typeof item.name === 'string' ? `/${section}/${item.name}` : whole;
    }),
  );
}
