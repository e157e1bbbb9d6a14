/**
 * The guardrail stage of a call: applies the policies and notes which rules fired on the call
 * (never the matched values); a refusal is thrown as the 400 `guardrail_violation` and the
 * call settles with it like any refusal.
 */
import type { ChatRequest } from '../core/types.js';
import type { Call } from '../pipeline/call.js';
import { applyGuardrails } from './apply-guardrails.js';
import type { GuardrailPolicy } from './compile-guardrails.js';

/** The request to send on (redacted where asked); throws the 400 `guardrail_violation` of a refusal. */
export function guardRequest(call: Call, policies: readonly GuardrailPolicy[], req: ChatRequest): ChatRequest {
  if (policies.length === 0) return req;
  const outcome = applyGuardrails(policies, req);
  call.noteGuardrails(outcome.fired);
  if (!outcome.ok) throw outcome.error;
  return outcome.request;
}
