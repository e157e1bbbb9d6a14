/**
 * Turns `guardrails:` settings into a policy ready for requests: deny patterns compiled once,
 * at start or when a prompt loads. A pattern that does not compile is a config fault.
 */
import type { GuardrailSettings, PiiMode } from './guardrail-settings.js';

export interface DenyRule {
  /** The rule's name in refusals, the ledger and metrics: `deny:<n>`, n counting from 1. */
  rule: string;
  pattern: RegExp;
}

/** What one group or prompt enforces; `where` names it in refusals ("model group 'fast'"). */
export interface GuardrailPolicy {
  where: string;
  pii: PiiMode;
  deny: readonly DenyRule[];
  maxInputTokens?: number;
}

function compileDeny(source: string): RegExp {
  return new RegExp(source, 'i');
}

/** Faults of deny patterns that do not compile, each named by its key path under `at`. */
export function guardrailFaults(settings: { deny?: unknown } | undefined, at: string): string[] {
  const faults: string[] = [];
  if (!settings || !Array.isArray(settings.deny)) return faults;
  settings.deny.forEach((source, i) => {
    if (typeof source !== 'string') return;
    try {
      compileDeny(source);
    } catch (err) {
      faults.push(`${at}/deny/${i}: not a valid regular expression (${(err as Error).message})`);
    }
  });
  return faults;
}

/** The policy, or undefined when the settings turn nothing on. Call on validated settings. */
export function compileGuardrails(settings: GuardrailSettings | undefined, where: string): GuardrailPolicy | undefined {
  if (!settings) return undefined;
  const deny = (settings.deny ?? []).map((source, i) => ({ rule: `deny:${i + 1}`, pattern: compileDeny(source) }));
  const pii = settings.pii ?? 'off';
  if (pii === 'off' && deny.length === 0 && settings.max_input_tokens === undefined) return undefined;
  return { where, pii, deny, maxInputTokens: settings.max_input_tokens };
}
