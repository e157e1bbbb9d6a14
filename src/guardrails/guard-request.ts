/**
 * The guardrail stage of a call: applies the policies, records a refusal on the ledger (which
 * rules fired, never the matched values) and notes redactions for the call's own record.
 */
import type { ChatRequest } from '../core/types.js';
import type { CallContext } from '../pipeline/call-context.js';
import { writeLedger } from '../pipeline/chat-call.js';
import { applyGuardrails } from './apply-guardrails.js';
import type { GuardrailPolicy } from './compile-guardrails.js';

/** The request to send on (redacted where asked); throws the 400 `guardrail_violation` of a refusal. */
export function guardRequest(ctx: CallContext, model: string, policies: readonly GuardrailPolicy[], req: ChatRequest): ChatRequest {
  if (policies.length === 0) return req;
  const outcome = applyGuardrails(policies, req);
  if (!outcome.ok) {
    writeLedger(ctx, model, { status: 400, error_code: 'guardrail_violation', guardrails: outcome.fired });
    throw outcome.error;
  }
  if (outcome.fired.length > 0) ctx.notes = { ...ctx.notes, guardrails: outcome.fired };
  return outcome.request;
}
