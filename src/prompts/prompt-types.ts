import type { ValidateFunction } from 'ajv';
import type { CacheSettings } from '../config/types.js';
import type { GuardrailPolicy } from '../guardrails/compile-guardrails.js';
import type { GuardrailSettings } from '../guardrails/guardrail-settings.js';
import type { Template } from './template.js';

export type PromptRole = 'system' | 'developer' | 'user' | 'assistant';

/** Sampling parameters a prompt file may fix; passed to the provider as in chat completions. */
export interface PromptParams {
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string | string[];
  presence_penalty?: number;
  frequency_penalty?: number;
  seed?: number;
}

export type PromptOutput = { type: 'text' } | { type: 'json'; schema: Record<string, unknown> };

/** A prompt file (docs/prompt-apis.md) after validation, with defaults filled in. */
export interface PromptSpec {
  name: string;
  version: number;
  description?: string;
  /** Overrides the route: `team/classify` or `/prompts/team/classify`. */
  path?: string;
  /** A model group or `provider/model`. */
  model: string;
  /** JSON Schema of the request body. */
  input: Record<string, unknown>;
  messages: Array<{ role: PromptRole; content: string }>;
  params?: PromptParams;
  output: PromptOutput;
  approval: 'none' | 'required';
  /** The prompt's own response cache (namespace per name and version); absent: its model group's. */
  cache?: CacheSettings;
  /** Applied before the model group's guardrails. */
  guardrails?: GuardrailSettings;
}

/** Where a prompt was read from: a file in the prompts dir, or the shared store (admin API). */
export type PromptSource = { kind: 'file'; path: string } | { kind: 'store' };

/** A prompt ready to serve: templates parsed and schemas compiled once, at load. */
export interface Prompt {
  readonly spec: Readonly<PromptSpec>;
  readonly source: PromptSource;
  /** The URL path that serves the newest version, e.g. `/prompts/sentiment`. */
  readonly route: string;
  readonly templates: ReadonlyArray<{ role: PromptRole; template: Template }>;
  readonly validateInput: ValidateFunction;
  /** Present for `output: { type: json }`. */
  readonly validateOutput?: ValidateFunction;
  /** Compiled `guardrails:`; absent when the file turns none on. */
  readonly guardrails?: GuardrailPolicy;
}

/** A prompt file (or stored prompt) that could not be used, and why. */
export interface PromptFault {
  /** The file path, or `store:<name>@<version>` for a stored prompt. */
  path: string;
  fault: string;
}
