/** The SDK's failures as UpstreamErrors, with what Gemini says in its error details. */
import { GoogleGenerativeAIError, GoogleGenerativeAIFetchError } from '@google/generative-ai';
import { fromHttpFacts, settleAdapterError } from '../upstream-errors.js';

interface ErrorDetail {
  '@type'?: string;
  reason?: string;
  retryDelay?: string;
}

/** The SDK folds the provider's message into its own, after the URL and `[status text]`, details appended. */
function providerMessage(err: GoogleGenerativeAIFetchError): string {
  let message = /\[\d{3}[^\]]*\] ?([\s\S]*)$/.exec(err.message)?.[1] ?? '';
  const details = err.errorDetails ? ` ${JSON.stringify(err.errorDetails)}` : '';
  if (details && message.endsWith(details)) message = message.slice(0, -details.length);
  return message;
}

/** Gemini puts no `retry-after` header on a 429; it sends a google.rpc.RetryInfo detail ("37s"). */
function retryDelaySeconds(details: ErrorDetail[] | undefined): string | undefined {
  const delay = details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
  const seconds = delay ? Number.parseFloat(delay) : Number.NaN;
  return Number.isFinite(seconds) ? String(Math.ceil(seconds)) : undefined;
}

/** What the adapter throws for anything that went wrong in a call. */
export function settleGeminiError(provider: string, err: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted && err instanceof GoogleGenerativeAIFetchError && typeof err.status === 'number') {
    const details = Array.isArray(err.errorDetails) ? (err.errorDetails as ErrorDetail[]) : undefined;
    // A bad key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID: the gateway's credentials, not the caller's request.
    const status = details?.some((d) => d.reason === 'API_KEY_INVALID') ? 401 : err.status;
    return fromHttpFacts(provider, { status, body: { error: { message: providerMessage(err) } }, retryAfter: retryDelaySeconds(details) }, err);
  }
  if (!signal.aborted && err instanceof GoogleGenerativeAIError) {
    // The SDK's own errors name the upstream URL and drop the network cause; keep only what happened.
    const message = err.message.replace('[GoogleGenerativeAI Error]: ', '').replace(/^Error fetching from \S+: /, '');
    return settleAdapterError(provider, new Error(message, { cause: err }), signal);
  }
  return settleAdapterError(provider, err, signal);
}
