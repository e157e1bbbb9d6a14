/**
 * What the pipeline tells a tracer about a call (docs/telemetry.md). Only the shapes live here:
 * the OpenTelemetry implementation is in src/telemetry and is loaded at start-up only when
 * tracing is on. When it is off a call has no trace, and every hook below is skipped by `?.`,
 * so the pipeline pays nothing for it.
 */
import type { Deployment } from '../core/deployment.js';
import type { ChatMessage, ChatResponse } from '../core/types.js';
import type { LedgerRecord, LedgerRoute } from '../usage/ledger-record.js';

export interface CallTraceStart {
  callId: string;
  route: LedgerRoute;
  /** The client's W3C trace context headers, if it sent them: the call's span continues that trace. */
  traceparent: string | undefined;
  tracestate: string | undefined;
}

export interface CallTracer {
  startCall(start: CallTraceStart): CallTrace;
  /** Exports the spans still buffered and stops; the app calls it on close. */
  close(): Promise<void>;
}

/** The span of one call: from its first hook to its settlement. */
export interface CallTrace {
  /** The span of one upstream attempt, a child of the call's. */
  startAttempt(deployment: Deployment, attempt: number): AttemptTrace;
  /** Finish reasons of the answer (`stop`, `length`, `tool_calls`, ...), as the client sees them. */
  noteFinishReasons(reasons: readonly string[]): void;
  /** The request's messages; kept only where the operator turned `capture_content` on. */
  noteInput(messages: readonly ChatMessage[]): void;
  /** The answer; kept only with `capture_content`. A stream passes the text it produced. */
  noteOutput(output: ChatResponse | string): void;
  /** Ends the span with what the call's one ledger record says. */
  end(record: LedgerRecord, deployment: Deployment | undefined): void;
}

export interface AttemptTrace {
  /** Headers for the upstream request: the W3C `traceparent` naming this attempt's span. */
  readonly headers: Readonly<Record<string, string>>;
  /** Ends the span; `error` is why the attempt failed. */
  end(error?: unknown): void;
}
