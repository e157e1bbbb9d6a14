/**
 * What budgets change about a call before it runs: a group with `budget_fallback` sends the
 * call to a cheaper group once the caller has used `threshold` of its tightest budget (past the
 * budget itself admission refuses it), and `budgets.enforce_output_cap` sends the reserved
 * output cap upstream for a call that names none, so no call can cost more than it reserved.
 */
import type { BudgetsConfig } from '../config/types.js';
import type { ModelGroup } from '../core/deployment.js';
import type { ChatRequest } from '../core/types.js';
import type { ModelRegistry } from './model-registry.js';

/** The group a call goes to; `downgraded` when budget use moved it to the cheaper one. */
export function routeByBudget(registry: ModelRegistry, group: ModelGroup, budgetUse: number): { group: ModelGroup; downgraded: boolean } {
  const fallback = group.budgetFallback;
  if (!fallback || budgetUse < fallback.threshold) return { group, downgraded: false };
  const cheaper = registry.resolve(fallback.group);
  return cheaper ? { group: cheaper, downgraded: true } : { group, downgraded: false };
}

export function withOutputCap(req: ChatRequest, budgets: BudgetsConfig): ChatRequest {
  if (!budgets.enforce_output_cap || req.max_tokens !== undefined || req.max_completion_tokens !== undefined) return req;
  return { ...req, max_tokens: budgets.reserve_output_tokens };
}
