/**
 * Where a caller's gateway credential sits in a request. The same reading as `presentedKey`
 * (src/plugins/admin-auth.ts), which identifies the caller, kept here with the header's name
 * so that the proxy can remove exactly what the gateway consumed; a test holds the two equal.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface PresentedCredential {
  /** The header that carried it. */
  header: 'authorization' | 'x-api-key';
  secret: string;
}

/** `Authorization: Bearer …` first, else `x-api-key`; undefined when neither holds a secret. */
export function presentedCredential(headers: IncomingHttpHeaders): PresentedCredential | undefined {
  const auth = headers.authorization;
  if (auth && auth.startsWith('Bearer ')) {
    const secret = auth.slice(7).trim();
    return secret ? { header: 'authorization', secret } : undefined;
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? { header: 'x-api-key', secret: apiKey } : undefined;
}
