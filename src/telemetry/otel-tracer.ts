/**
 * The OpenTelemetry side of call tracing (docs/telemetry.md): one SERVER span per call, named
 * `{operation} {model}` and ended with what its ledger record says, and one CLIENT span per
 * upstream attempt under it, whose context goes upstream as `traceparent`. Spans leave in
 * batches over OTLP/HTTP (JSON); `close()` exports what is left.
 *
 * This module is the only one that imports the SDK, and it is loaded only when tracing is on
 * (./start-tracing.ts). The provider is kept to the gateway, not registered as the process's
 * global one: contexts are passed explicitly (the client's `traceparent` in, the call's span
 * to its attempts), so no context manager or AsyncLocalStorage runs on the request path.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Deployment } from '../core/deployment.js';
import type { ChatMessage, ChatResponse } from '../core/types.js';
import type { AttemptTrace, CallTrace, CallTracer, CallTraceStart } from '../pipeline/call-trace.js';
import type { LedgerRecord } from '../usage/ledger-record.js';
import { GEN_AI, STABLE, attemptAttributes, attemptFailure, callAttributes, operationOf } from './gen-ai-attributes.js';
import type { TelemetrySettings } from './telemetry-settings.js';

/** Where a deployment's requests go, for `server.address` / `server.port`. */
export type HostOf = (deployment: Deployment) => { address: string; port?: number } | undefined;

const propagator = new W3CTraceContextPropagator();

class OtelAttempt implements AttemptTrace {
  readonly headers: Record<string, string> = {};

  constructor(private readonly span: Span) {
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), this.headers, defaultTextMapSetter);
  }

  end(error?: unknown): void {
    if (error !== undefined) {
      const failure = attemptFailure(error);
      this.span.setAttribute(STABLE.errorType, failure.errorType);
      if (failure.status !== undefined) this.span.setAttribute(STABLE.httpStatus, failure.status);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
    }
    this.span.end();
  }
}

class OtelCall implements CallTrace {
  private readonly context: Context;
  private finishReasons: readonly string[] | undefined;

  constructor(
    private readonly span: Span,
    private readonly start: CallTraceStart,
    private readonly tracer: OtelCallTracer,
  ) {
    this.context = trace.setSpan(ROOT_CONTEXT, span);
  }

  startAttempt(deployment: Deployment, attempt: number): AttemptTrace {
    const operation = operationOf(this.start.route);
    const span = this.tracer.sdkTracer.startSpan(
      `${operation} ${deployment.model}`,
      { kind: SpanKind.CLIENT, attributes: attemptAttributes(deployment, operation, attempt, this.tracer.hostOf(deployment)) },
      this.context,
    );
    return new OtelAttempt(span);
  }

  noteFinishReasons(reasons: readonly string[]): void {
    this.finishReasons = reasons;
  }

  noteInput(messages: readonly ChatMessage[]): void {
    if (this.tracer.settings.captureContent) this.span.setAttribute(GEN_AI.inputMessages, JSON.stringify(messages));
  }

  noteOutput(output: ChatResponse | string): void {
    if (!this.tracer.settings.captureContent) return;
    const messages = typeof output === 'string' ? [{ role: 'assistant', content: output }] : output.choices.map((choice) => choice.message);
    this.span.setAttribute(GEN_AI.outputMessages, JSON.stringify(messages));
  }

  end(record: LedgerRecord, deployment: Deployment | undefined): void {
    const span = this.span;
    span.updateName(record.model === null ? operationOf(record.route) : `${operationOf(record.route)} ${record.model}`);
    span.setAttributes(callAttributes(record, deployment));
    if (this.finishReasons) span.setAttribute(GEN_AI.finishReasons, [...this.finishReasons]);
    // As for HTTP servers: a 4xx is the client's fault, not the gateway's.
    if (record.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: record.error_code });
    span.end();
  }
}

class OtelCallTracer implements CallTracer {
  readonly sdkTracer;

  constructor(
    readonly settings: TelemetrySettings,
    readonly hostOf: HostOf,
    private readonly provider: BasicTracerProvider,
  ) {
    this.sdkTracer = provider.getTracer('konnect-gateway');
  }

  startCall(start: CallTraceStart): CallTrace {
    const carrier = { traceparent: start.traceparent, tracestate: start.tracestate };
    const parent = start.traceparent === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    const operation = operationOf(start.route);
    const span = this.sdkTracer.startSpan(operation, { kind: SpanKind.SERVER, attributes: { [GEN_AI.operation]: operation } }, parent);
    return new OtelCall(span, start, this);
  }

  async close(): Promise<void> {
    await this.provider.shutdown();
  }
}

export function createOtelTracer(settings: TelemetrySettings, hostOf: HostOf): CallTracer {
  const exporter = new OTLPTraceExporter({ url: settings.url, headers: settings.headers });
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName })),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  return new OtelCallTracer(settings, hostOf, provider);
}
