/**
 * Packages only some configurations use, loaded the first time one is needed instead of at
 * start-up: a gateway on the embedded in-memory store never pays for a Redis client (about
 * 13 MB resident), and one that never counts tokens never loads the tokenizer. `require` keeps
 * the first use synchronous where the caller is (constructors, token counts on the hot path).
 */
import { createRequire } from 'node:module';
import type Bottleneck from 'bottleneck';

const require = createRequire(import.meta.url);

export function loadIoredis(): typeof import('ioredis') {
  return require('ioredis') as typeof import('ioredis');
}

export function loadBottleneck(): typeof Bottleneck {
  return require('bottleneck') as typeof Bottleneck;
}
