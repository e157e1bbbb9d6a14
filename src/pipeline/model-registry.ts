import type { ProviderAdapter } from '../core/adapter.js';
import { isModelName } from '../config/names.js';
import { directByDefault } from '../config/provider-schema.js';
import type { GatewayConfig, ProviderConfig } from '../config/types.js';
import type { Deployment, ModelGroup } from '../core/deployment.js';

export type { Deployment, ModelGroup };
import { resolvePrice } from '../usage/pricing.js';
import { createAdapter, needsApiKey } from '../../providers/index.js';


const DIRECT_CACHE_LIMIT = 1000;
const DIRECT_TIMEOUT_MS = 60_000;

/** Which models a provider serves to clients that name them `<provider>/<model>`: all, none, or these ids and prefixes. */
type DirectPolicy = boolean | { exact: ReadonlySet<string>; prefixes: readonly string[] };

function directPolicyOf(provider: ProviderConfig): DirectPolicy {
  const setting = provider.direct ?? directByDefault(provider.type);
  if (typeof setting === 'boolean') return setting;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of setting) {
    if (entry.endsWith('*')) prefixes.push(entry.slice(0, -1));
    else exact.add(entry);
  }
  return { exact, prefixes };
}

/**
 * Builds one adapter per usable provider at start-up and resolves model names. Providers that
 * need a key and have none are left out, with their deployments, so the default config runs
 * offline while its real-provider entries wait for keys in the environment.
 */
export class ModelRegistry {
  readonly adapters = new Map<string, ProviderAdapter>();
  /** Providers left out for want of a key, for the start-up log and /health. */
  readonly disabledProviders: string[] = [];
  private readonly groups = new Map<string, ModelGroup>();
  /** Configured groups left out because every deployment's provider lacks a key: those providers, in config order. */
  private readonly keyless = new Map<string, string[]>();
  private readonly direct = new Map<string, ModelGroup>();
  private readonly directPolicies = new Map<string, DirectPolicy>();
  /** Provider settings and deployment settings as built, so a successor can tell what changed. */
  private readonly providerSignatures = new Map<string, string>();
  private readonly deploymentSignatures = new Map<string, { signature: string; deployment: Deployment }>();

  /**
   * `previous`: the registry this one replaces at run time. Its adapter is reused for each
   * provider whose settings did not change, and its deployment object for each deployment that
   * did not change at all, so the balancer's state for it (latency, health, limits) carries over.
   */
  constructor(config: GatewayConfig, previous?: ModelRegistry) {
    for (const [name, provider] of Object.entries(config.providers)) {
      this.directPolicies.set(name, directPolicyOf(provider));
      if (needsApiKey(provider) && !provider.api_key) {
        this.disabledProviders.push(name);
        continue;
      }
      const signature = JSON.stringify(provider);
      const reused = previous?.providerSignatures.get(name) === signature ? previous.adapters.get(name) : undefined;
      this.adapters.set(name, reused ?? createAdapter(name, provider));
      this.providerSignatures.set(name, signature);
    }
    for (const group of config.models) {
      const deployments: Deployment[] = [];
      group.deployments.forEach((d, index) => {
        const adapter = this.adapters.get(d.provider);
        if (!adapter) return;
        const id = `${group.name}/${index}`;
        const timeoutMs = d.timeout_ms ?? group.timeout_ms;
        const signature = JSON.stringify([d, timeoutMs]);
        const prior = previous?.deploymentSignatures.get(id);
        const deployment =
          prior && prior.signature === signature && prior.deployment.adapter === adapter
            ? prior.deployment
            : {
                id,
                provider: d.provider,
                adapter,
                model: d.model,
                weight: d.weight,
                pricing: resolvePrice(d.model, d.price, adapter.kind === 'mock'),
                limits: d.limits,
                timeoutMs,
              };
        this.deploymentSignatures.set(id, { signature, deployment });
        deployments.push(deployment);
      });
      if (deployments.length === 0) {
        // The config validator guarantees every deployment names a configured provider, so an
        // empty group means keyless providers only.
        this.keyless.set(group.name, [...new Set(group.deployments.map((d) => d.provider))]);
        continue;
      }
      this.groups.set(group.name, {
        name: group.name,
        strategy: group.strategy,
        retries: group.retries,
        timeoutMs: group.timeout_ms,
        deadlineMs: group.deadline_ms,
        fallbacks: group.fallbacks,
        deployments,
        isDirect: false,
        budgetFallback: group.budget_fallback,
      });
    }
  }

  /** Configured groups that have at least one usable deployment. */
  listGroups(): ModelGroup[] {
    return [...this.groups.values()];
  }

  /** Whether `<provider>/<model>` is served: the provider is usable and its `direct` setting lets the model through. */
  allowsDirect(provider: string, model: string): boolean {
    return this.adapters.has(provider) && this.policyAllows(provider, model);
  }

  /**
   * For a name that does not resolve only because providers have no API key: those providers.
   * Undefined for names that resolve and for names the config does not know at all, so that an
   * error can tell "configured but switched off" (503) from "no such model" (404).
   */
  keylessProvidersOf(name: string): string[] | undefined {
    if (!isModelName(name) || this.groups.has(name)) return undefined;
    const providers = this.keyless.get(name);
    if (providers) return providers;
    const slash = name.indexOf('/');
    if (slash <= 0 || slash === name.length - 1) return undefined;
    const provider = name.slice(0, slash);
    if (!this.disabledProviders.includes(provider) || !this.policyAllows(provider, name.slice(slash + 1))) return undefined;
    return [provider];
  }

  private policyAllows(provider: string, model: string): boolean {
    const policy = this.directPolicies.get(provider);
    if (policy === undefined || typeof policy === 'boolean') return policy === true;
    return policy.exact.has(model) || policy.prefixes.some((prefix) => model.startsWith(prefix));
  }

  /**
   * The group a client's model name stands for: a configured group, or `<provider>/<model>` as a
   * one-deployment group when the provider's `direct` setting allows it. Names outside the
   * request schema's bounds resolve to nothing, whoever asks (refusal records, prompts, limits).
   */
  resolve(name: string): ModelGroup | undefined {
    if (!isModelName(name)) return undefined;
    const group = this.groups.get(name);
    if (group) return group;
    const slash = name.indexOf('/');
    if (slash <= 0 || slash === name.length - 1) return undefined;
    const cached = this.direct.get(name);
    if (cached) return cached;
    const provider = name.slice(0, slash);
    const adapter = this.adapters.get(provider);
    const model = name.slice(slash + 1);
    if (!adapter || !this.allowsDirect(provider, model)) return undefined;
    const direct: ModelGroup = {
      name,
      strategy: 'priority',
      retries: 0,
      timeoutMs: DIRECT_TIMEOUT_MS,
      fallbacks: [],
      deployments: [
        { id: name, provider, adapter, model, weight: 1, timeoutMs: DIRECT_TIMEOUT_MS, pricing: resolvePrice(model, undefined, adapter.kind === 'mock') },
      ],
      isDirect: true,
    };
    // Clients choose these names freely; a bound keeps a stream of odd names from growing memory.
    if (this.direct.size >= DIRECT_CACHE_LIMIT) this.direct.clear();
    this.direct.set(name, direct);
    return direct;
  }
}
