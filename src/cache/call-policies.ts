/**
 * What a call must go through besides the pipeline: the guardrails and the response cache of
 * its model group and, for a prompt API, of the prompt. Group policies are compiled once per
 * config object, so a config swapped at run time (control plane) is picked up on the next call.
 */
import type { GatewayConfig, ModelGroupConfig } from '../config/types.js';
import { compileGuardrails, type GuardrailPolicy } from '../guardrails/compile-guardrails.js';
import type { Prompt } from '../prompts/prompt-types.js';
import type { CacheScope } from './cache-plan.js';

export interface CallPolicies {
  /** Applied in order: a prompt's own, then its model group's. */
  guardrails: readonly GuardrailPolicy[];
  /** Absent: the call does not use the cache (and gets no `x-gateway-cache` header). */
  cache?: CacheScope;
}

const NONE: CallPolicies = Object.freeze({ guardrails: Object.freeze([]) });

function compileGroup(group: ModelGroupConfig): CallPolicies {
  const guardrails = compileGuardrails(group.guardrails, `model group '${group.name}'`);
  if (!guardrails && !group.cache) return NONE;
  return {
    guardrails: guardrails ? [guardrails] : [],
    cache: group.cache ? { namespace: `model:${group.name}`, settings: group.cache } : undefined,
  };
}

export class PolicyResolver {
  private compiled?: { models: readonly ModelGroupConfig[]; byGroup: Map<string, CallPolicies> };

  constructor(private readonly config: () => Pick<GatewayConfig, 'models'>) {}

  /** A model group's policies; direct `provider/model` names have none. */
  forGroup(name: string): CallPolicies {
    const models = this.config().models;
    if (this.compiled?.models !== models) {
      const byGroup = new Map<string, CallPolicies>();
      for (const group of models) byGroup.set(group.name, compileGroup(group));
      this.compiled = { models, byGroup };
    }
    return this.compiled.byGroup.get(name) ?? NONE;
  }

  /** A prompt API's policies: its own guardrails before its group's; its own cache, else its group's. */
  forPrompt(prompt: Prompt, group: string): CallPolicies {
    const ofGroup = this.forGroup(group);
    const own = prompt.guardrails;
    const cache = prompt.spec.cache ? { namespace: `prompt:${prompt.spec.name}@${prompt.spec.version}`, settings: prompt.spec.cache } : ofGroup.cache;
    if (!own && cache === ofGroup.cache) return ofGroup;
    return { guardrails: own ? [own, ...ofGroup.guardrails] : ofGroup.guardrails, cache };
  }
}
