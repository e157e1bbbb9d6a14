/**
 * A fake OpenTelemetry collector: the OTLP/HTTP receiver on 127.0.0.1:0 that the gateway's
 * exporter posts to (`POST /v1/traces`, the OTLP JSON encoding), answering 200 with an empty
 * partial-success body as a collector does. `spans()` flattens every export received into
 * spans with plain attribute values, so tests read `span.attributes['gen_ai.request.model']`.
 */
import { sendJson, startFakeServer, type FakeServer } from './fake-server.js';

/** OTLP's `AnyValue`, as the JSON encoding writes it. */
interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: Array<{ key: string; value: AnyValue }>;
  status?: { code?: number; message?: string };
}

interface TracesRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: AnyValue }> };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

/** OTLP span kinds (`SPAN_KIND_*`). */
export const SPAN_KIND = { server: 2, client: 3 } as const;
/** OTLP status codes (`STATUS_CODE_*`). */
export const STATUS_CODE = { unset: 0, ok: 1, error: 2 } as const;

export type Plain = string | number | boolean | Plain[];

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, Plain>;
  status: { code: number; message?: string };
  /** The exporting resource's attributes (`service.name`, ...). */
  resource: Record<string, Plain>;
}

function plain(value: AnyValue): Plain {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plain);
  throw new Error(`an attribute value the fake collector cannot read: ${JSON.stringify(value)}`);
}

function attributesOf(list: Array<{ key: string; value: AnyValue }> | undefined): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  for (const { key, value } of list ?? []) out[key] = plain(value);
  return out;
}

export interface FakeCollector extends FakeServer {
  /** The traces URL to configure: `<url>/v1/traces`. */
  tracesUrl: string;
  spans(): ReceivedSpan[];
}

export async function startFakeCollector(): Promise<FakeCollector> {
  const server = await startFakeServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/traces') return sendJson(res, 404, {});
    sendJson(res, 200, {});
  });
  const spans = (): ReceivedSpan[] => {
    const out: ReceivedSpan[] = [];
    for (const request of server.requests) {
      if (request.url !== '/v1/traces') continue;
      if (request.headers['content-type'] !== 'application/json') throw new Error(`the exporter sent ${request.headers['content-type']}, not OTLP JSON`);
      for (const rs of (request.body as TracesRequest).resourceSpans ?? []) {
        const resource = attributesOf(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const span of ss.spans ?? []) {
            out.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              name: span.name,
              kind: span.kind,
              attributes: attributesOf(span.attributes),
              status: { code: span.status?.code ?? 0, message: span.status?.message },
              resource,
            });
          }
        }
      }
    }
    return out;
  };
  return Object.assign(server, { tracesUrl: `${server.url}/v1/traces`, spans });
}
