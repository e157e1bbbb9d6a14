import { randomFillSync } from 'node:crypto';

/** Random bytes drawn in blocks: one syscall per 512 ids, not one per call. */
const POOL_IDS = 512;
/** Random bytes per id: 74 bits are used (the version and variant take the rest of 80). */
const RANDOM_BYTES = 10;
const pool = Buffer.allocUnsafe(RANDOM_BYTES * POOL_IDS);
let next = POOL_IDS;

/** Two hex digits per byte value: an id is built from table look-ups, with no number formatting per call. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

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
  const r = next++ * RANDOM_BYTES;
  // The 48-bit time, high to low: two 24-bit halves stay exact in 32-bit operations.
  const high = Math.floor(now / 0x1000000);
  const low = now % 0x1000000;
  const time =
    HEX[(high >>> 16) & 0xff]! + HEX[(high >>> 8) & 0xff]! + HEX[high & 0xff]! + HEX[(low >>> 16) & 0xff]! + HEX[(low >>> 8) & 0xff]! + HEX[low & 0xff]!;
  // Version 7 in the high nibble of byte 6, variant 10 in the high bits of byte 8.
  const version = HEX[0x70 | (pool[r]! & 0x0f)]! + HEX[pool[r + 1]!]!;
  const variant = HEX[0x80 | (pool[r + 2]! & 0x3f)]! + HEX[pool[r + 3]!]!;
  let tail = '';
  for (let i = r + 4; i < r + RANDOM_BYTES; i++) tail += HEX[pool[i]!]!;
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-${version}-${variant}-${tail}`;
}
