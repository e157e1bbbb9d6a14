import type { Caller, CallerPermissions } from '../core/caller.js';
import type { Policy } from './types.js';

export type ResourceKind = keyof CallerPermissions;

function intersect(a: readonly string[], b: readonly string[] | undefined): ReadonlySet<string> | null {
  if (a.length === 0 && (!b || b.length === 0)) return null;
  if (a.length === 0) return new Set(b);
  if (!b || b.length === 0) return new Set(a);
  const other = new Set(b);
  return new Set(a.filter((name) => other.has(name)));
}

/** A key's permissions within its team's: a name must be allowed by both (an empty list allows all). */
export function permissionsOf(key: Policy, team: Policy | null): CallerPermissions | undefined {
  const models = intersect(key.models, team?.models);
  const prompts = intersect(key.prompts, team?.prompts);
  const services = intersect(key.services, team?.services);
  return models || prompts || services ? { models, prompts, services } : undefined;
}

/** Whether the caller may use the model group / prompt API / service `name`. */
export function mayUse(caller: Caller, kind: ResourceKind, name: string): boolean {
  const allowed = caller.permissions?.[kind];
  return !allowed || allowed.has(name);
}
