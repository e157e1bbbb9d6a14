/**
 * The hook for prompts marked `approval: required`: callers need an approved subscription of
 * their team (docs/access-control.md, "Subscription approval"). app.ts passes the access layer's check
 * (`access.checkSubscription`) to `registerPrompts`; without one the prompt routes fail closed
 * and refuse such prompts to everyone.
 */
import type { Caller } from '../core/caller.js';
import { GatewayError } from '../core/errors.js';
import type { Prompt } from './prompt-types.js';

/** Resolves when `caller` may call `prompt`; throws a GatewayError (403) when not. */
export type ApprovalCheck = (caller: Caller, prompt: Prompt) => Promise<void>;

export const refuseWithoutSubscriptions: ApprovalCheck = async (_caller, prompt) => {
  throw new GatewayError('forbidden', `prompt '${prompt.spec.name}' needs an approved subscription, and subscriptions are not available on this gateway`);
};
