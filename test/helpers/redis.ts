/** The suites' shared Redis (test/global-setup.ts makes sure one answers) and per-suite key prefixes. */
import { randomBytes } from 'node:crypto';
import { dropKeys } from '../../load-tests/redis-cleanup.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A fresh `test:<suite>:<random>:` prefix. */
export function uniquePrefix(suite: string): string {
  return `test:${suite}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix`, on a connection of its own (the bench's own cleanup). */
export async function dropPrefix(prefix: string): Promise<void> {
  await dropKeys(REDIS_URL, prefix);
}
