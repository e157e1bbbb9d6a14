import type { Prompt } from './prompt-types.js';

/** A prompt as `GET /prompts` lists it (docs/prompt-apis.md). */
export interface PromptListing {
  name: string;
  version: number;
  /** Every version still served, newest first. */
  versions: number[];
  description: string;
  route: string;
  model: string;
  input: Record<string, unknown>;
  output: Prompt['spec']['output'];
  approval: 'none' | 'required';
}

export function describePrompt(prompt: Prompt, versions: readonly Prompt[], route: string): PromptListing {
  const { spec } = prompt;
  return {
    name: spec.name,
    version: spec.version,
    versions: versions.map((p) => p.spec.version),
    description: spec.description ?? '',
    route,
    model: spec.model,
    input: spec.input,
    output: spec.output,
    approval: spec.approval,
  };
}
