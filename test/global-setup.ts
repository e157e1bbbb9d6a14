/**
 * Makes sure a Redis answers on 127.0.0.1:6379 before the suites run: the machine's own when
 * it is up, else a throwaway `redis-server` started here and stopped afterwards. Redis suites
 * then fail, never skip, when no Redis can be had.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { ensureChromium } from './helpers/chromium.js';
import { eventually } from './helpers/wait.js';

const PORT = 6379;

function ping(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(PORT, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

let child: ChildProcess | undefined;

export async function setup(): Promise<void> {
  // The console's browser tests (test/ui*.test.ts) need Debian's Chromium; they fail, not skip, without it.
  const noChromium = ensureChromium();
  if (noChromium) console.warn(`[global-setup] ${noChromium}`);
  if (await ping()) return;
  child = spawn('redis-server', ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  child.on('error', () => undefined);
  try {
    await eventually(() => ping(), { tries: 100, what: 'redis-server answering' });
  } catch {
    throw new Error('no Redis on 127.0.0.1:6379 and `redis-server` could not be started: install redis-server');
  }
}

export async function teardown(): Promise<void> {
  child?.kill();
}
