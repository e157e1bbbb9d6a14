/**
 * The config's types, each the `Static` of its schema (./schema.ts and the section schemas): the
 * schema is the one source, so a field added there is typed here. They describe the config after
 * validation, with defaults filled in.
 */
import type { Static } from '@sinclair/typebox';
import type { DeploymentLimits, PriceConfig, Strategy } from '../core/deployment.js';
import type { ProviderKind } from '../core/types.js';
import type { cacheSettingsSchema } from './cache-schema.js';
import type { guardrailSettingsSchema } from './guardrails-schema.js';
import type { budgetsSchema } from './budgets-schema.js';
import type { ledgerSchema } from './ledger-schema.js';
import type { deploymentLimitsSchema, deploymentSchema, modelGroupSchema, priceSchema } from './model-schema.js';
import type {
  anthropicProviderSchema,
  geminiProviderSchema,
  mockProviderSchema,
  openAICompatibleProviderSchema,
  openAIProviderSchema,
  providerSchema,
} from './provider-schema.js';
import type { responsesSchema } from './responses-schema.js';
import type { gatewayConfigSchema } from './schema.js';
import type { authSchema, promptsSchema, serverSchema } from './server-schema.js';
import type { headerChangesSchema, serviceHealthSchema, serviceMethodSchema, serviceSchema, serviceTargetSchema } from './service-schema.js';
import type { redisNodeSchema, storeSchema } from './store-schema.js';
import type { telemetrySchema } from './telemetry-schema.js';

/** Core keeps its own copies (it may not import config); the checks at the end keep them equal. */
export type { DeploymentLimits, PriceConfig, Strategy };

/** Exact-match response cache settings. */
export type CacheSettings = Static<typeof cacheSettingsSchema>;
/** Guardrail settings of a model group or a prompt. */
export type GuardrailSettings = Static<typeof guardrailSettingsSchema>;
export type PiiMode = GuardrailSettings['pii'];

export type DeploymentConfig = Static<typeof deploymentSchema>;
export type ModelGroupConfig = Static<typeof modelGroupSchema>;

/** One upstream account; what it takes depends on `type`. */
export type ProviderConfig = Static<typeof providerSchema>;
export type OpenAIProviderConfig = Static<typeof openAIProviderSchema>;
export type OpenAICompatibleProviderConfig = Static<typeof openAICompatibleProviderSchema>;
export type AnthropicProviderConfig = Static<typeof anthropicProviderSchema>;
export type GeminiProviderConfig = Static<typeof geminiProviderSchema>;
export type MockProviderConfig = Static<typeof mockProviderSchema>;
/** The variants for the given kinds: `ProviderConfigOf<'openai' | 'openai-compatible'>`. */
export type ProviderConfigOf<K extends ProviderKind> = Extract<ProviderConfig, { type: K }>;

export type ServiceTargetConfig = Static<typeof serviceTargetSchema>;
export type ServiceMethod = Static<typeof serviceMethodSchema>;
/** Headers to set (overwriting) and remove, names case-insensitive. */
export type HeaderChanges = Static<typeof headerChangesSchema>;
export type ServiceHealthConfig = Static<typeof serviceHealthSchema>;
export type ServiceConfig = Static<typeof serviceSchema>;

/** How usage records are batched, buffered and kept (docs/architecture.md, "6. The ledger"). */
export type LedgerConfig = Static<typeof ledgerSchema>;
export type BudgetsConfig = Static<typeof budgetsSchema>;
/** Stored Responses API answers: TTL and size bounds. */
export type ResponsesConfig = Static<typeof responsesSchema>;
/** OpenTelemetry tracing of AI calls (docs/telemetry.md). */
export type TelemetryConfig = Static<typeof telemetrySchema>;

export type RedisNodeConfig = Static<typeof redisNodeSchema>;
/** Where shared state lives: one Redis node (`redis_url`), a Sentinel set, or a Cluster; none: process memory. */
export type StoreConfig = Static<typeof storeSchema>;

export type ServerConfig = Static<typeof serverSchema>;
export type AuthConfig = Static<typeof authSchema>;
export type PromptsConfig = Static<typeof promptsSchema>;

export type GatewayConfig = Static<typeof gatewayConfigSchema>;

/*
 * Compile-time checks that the schema's types and core's hand-written ones are the same shape,
 * both ways: a field added, dropped or retyped on either side fails `tsc` here.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;

type CoreShapesMatch = [
  Holds<Same<Static<typeof priceSchema>, PriceConfig>>,
  Holds<Same<Static<typeof deploymentLimitsSchema>, DeploymentLimits>>,
  Holds<Same<ModelGroupConfig['strategy'], Strategy>>,
  Holds<Same<ProviderConfig['type'], ProviderKind>>,
];
