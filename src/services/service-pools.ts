/**
 * The keep-alive connections to service targets: one undici Pool per origin, made on the first
 * call to it and shared by every service and config version that names it. Asked with a path,
 * a Pool neither parses a URL nor looks its origin up per request.
 */
import { Pool } from '../core/undici-pool.js';

/** Connections per origin; a service's own `connections` gate bounds what it asks of them. */
const CONNECTIONS_PER_ORIGIN = 128;

export class ServicePools {
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  /** The pool of `origin` (`http://10.0.0.5:3001`). */
  of(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      if (this.closed) throw new Error('service pools are closed');
      pool = new Pool(origin, {
        connections: CONNECTIONS_PER_ORIGIN,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        // Certificates are verified: say so, whatever the process's TLS defaults are.
        connect: { rejectUnauthorized: true },
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** Closes every pool: requests in flight end, idle keep-alive sockets go. */
  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy().catch(() => undefined)));
  }
}
