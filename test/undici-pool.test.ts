/**
 * The gateway loads undici's Pool by its file path (src/core/undici-pool.ts) to keep the rest
 * of undici out of memory. If an undici upgrade moves that file, this fails before anything
 * ships: the class must be the very one the package's index exports.
 */
import { Pool as IndexPool } from 'undici';
import { expect, it } from 'vitest';
import { Pool } from '../src/core/undici-pool.js';

it("is undici's own Pool class, the one its index exports", () => {
  expect(Pool).toBe(IndexPool);
  const pool = new Pool('http://127.0.0.1:9', { connections: 1 });
  expect(pool).toBeInstanceOf(IndexPool);
  return pool.close();
});
