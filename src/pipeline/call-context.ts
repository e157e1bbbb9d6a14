import type { FastifyBaseLogger } from 'fastify';
import type { Caller } from '../core/caller.js';
import type { Balancer } from '../routing/balancer.js';
import type { Ledger, LedgerRecord } from '../usage/ledger.js';
import type { ModelRegistry } from './model-registry.js';

/** The long-lived parts every call uses, built once per app. */
export interface PipelineServices {
  registry: ModelRegistry;
  balancer: Balancer;
  ledger: Ledger;
}

/** One client call as it moves through the pipeline. */
export interface CallContext {
  services: PipelineServices;
  requestId: string;
  caller: Caller;
  /** Ledger route: `chat`, `embeddings`, `prompt:<name>`. */
  route: string;
  tags: string[];
  /** Aborts when the client disconnects. */
  clientSignal: AbortSignal;
  /** Epoch ms when the request arrived. */
  startedAt: number;
  log: FastifyBaseLogger;
  /** Set by the guardrail and cache stages before the call runs; copied into its ledger record. */
  notes?: Pick<LedgerRecord, 'guardrails' | 'cache_status'>;
  /** Set once the call's ledger record is written, so a refusal recorder does not write a second. */
  recorded?: boolean;
}
