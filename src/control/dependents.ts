/**
 * Which config entries still point at one that is about to be deleted. Deleting a provider that
 * deployments use, or a model group that others fall back to, would otherwise fail validation
 * with a fault about the entries left behind (`unknown provider "vllm" (not under providers:)`),
 * which tells the operator neither what is wrong with their request nor what to do first.
 */
import { isRecord } from '../core/is-record.js';
import type { Section } from './overlay.js';

function namedItems(value: unknown): Array<Record<string, unknown> & { name: string }> {
  if (!Array.isArray(value)) return [];
  return value.filter((item): item is Record<string, unknown> & { name: string } => isRecord(item) && typeof item.name === 'string');
}

function usesProvider(group: Record<string, unknown>, provider: string): boolean {
  return Array.isArray(group.deployments) && group.deployments.some((d) => isRecord(d) && d.provider === provider);
}

function fallsBackTo(group: Record<string, unknown>, target: string): boolean {
  const fallbacks: unknown[] = Array.isArray(group.fallbacks) ? group.fallbacks : [];
  const downgrade = isRecord(group.budget_fallback) ? group.budget_fallback.group : undefined;
  return fallbacks.includes(target) || downgrade === target;
}

/** The model groups of raw config `config` that refer to entry `name` of `section`, in file order. */
export function groupsReferring(config: Record<string, unknown>, section: Section, name: string): string[] {
  const groups = namedItems(config.models);
  if (section === 'providers') return groups.filter((group) => usesProvider(group, name)).map((group) => group.name);
  if (section === 'models') return groups.filter((group) => group.name !== name && fallsBackTo(group, name)).map((group) => group.name);
  return [];
}

/** "model groups 'a' and 'b'" */
export function listGroups(names: readonly string[]): string {
  const quoted = names.map((n) => `'${n}'`);
  const last = quoted.pop()!;
  return quoted.length === 0 ? `model group ${last}` : `model groups ${quoted.join(', ')} and ${last}`;
}
