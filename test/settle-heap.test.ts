/**
 * server.ts runs a compacting full GC once it listens (src/settle-heap.ts), so start-up's
 * garbage is not held as resident memory until V8's memory reducer gets round to it. Started
 * as `npm start` starts it (under tsx), the gateway logs its heap before and after: about 68 →
 * 58 MB, where a plain full GC returned 0–2 MB (compiled, `start:prod`: about 52 → 32 MB).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface Settled {
  heap_before_mb: number;
  heap_after_mb: number;
}

/** Starts the gateway on the default config at debug level and returns its start-up heap line. */
async function startAndReadHeapLine(): Promise<Settled> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { ...process.env, LOG_LEVEL: 'debug', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    return await new Promise<Settled>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (part: Buffer) => {
        out += part.toString();
        const line = out.split('\n').find((l) => l.includes('start-up garbage returned'));
        if (line) resolve(JSON.parse(line) as Settled);
      });
      child.once('exit', (code) => reject(new Error(`the gateway exited (${code}) before logging its heap:\n${out.slice(-2000)}`)));
    });
  } finally {
    child.kill('SIGKILL');
  }
}

describe('the heap after start-up', () => {
  it('is compacted once the gateway listens', async () => {
    const settled = await startAndReadHeapLine();
    expect(settled.heap_before_mb).toBeGreaterThan(0);
    expect(settled.heap_before_mb - settled.heap_after_mb).toBeGreaterThanOrEqual(5);
  });
});
