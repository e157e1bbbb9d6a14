import { randomFillSync } from 'node:crypto';

/** Random bytes drawn in blocks: one syscall per 512 ids, not one per call. */
const POOL_IDS = 512;
const pool = Buffer.allocUnsafe(10 * POOL_IDS);
let next = POOL_IDS;

/**
 * A new call id: a UUIDv7 (RFC 9562), 48 bits of Unix ms then 74 random bits. Time-ordered
 * so ledger logs sort by it, unguessable so no client can name another's call. Every call gets
 * one; the client's `x-request-id` is only a correlation id (docs/architecture.md).
 */
export function newCallId(now = Date.now()): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const at = next++ * 10;
  const hex = now.toString(16).padStart(12, '0');
  const r = pool.toString('hex', at, at + 10);
  // Version 7 in the high nibble of byte 6, variant 10 in the high bits of byte 8.
  const variant = ((Number.parseInt(r[3]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(7, 19)}`;
}
