import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

/**
 * undici's Pool, loaded by itself. The package's index also loads fetch, WebSocket,
 * EventSource, the cache stores and the mock agent: 110 modules against the Pool's 22, and
 * ~5 MB of the gateway's settled idle RSS (76 against 81 MB). The gateway's outbound HTTP only
 * needs the Pool. test/undici-pool.test.ts checks this path still gives the index's own class.
 */
export const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;
