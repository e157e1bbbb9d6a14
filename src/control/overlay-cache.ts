/**
 * The last overlay seen in Redis, kept in a local file so an instance that starts while Redis
 * is unreachable serves the cluster's last known config rather than the bare file. It may hold
 * provider keys given through the API, so it is written owner-only.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredOverlay } from './config-store.js';
import type { OverlayEntry } from './overlay.js';

interface CacheFile {
  version: number;
  entries: Array<[string, OverlayEntry]>;
}

/** Keeps `stored` in `file`; an empty overlay removes the file (the config file alone is the config). */
export async function writeOverlayCache(file: string, stored: StoredOverlay): Promise<void> {
  if (stored.overlay.size === 0) {
    await unlink(file).catch(() => undefined);
    return;
  }
  const content: CacheFile = { version: stored.version, entries: [...stored.overlay] };
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, JSON.stringify(content), { mode: 0o600 });
  await rename(temporary, file);
}

/** The cached overlay, or undefined when there is none (or it cannot be read). */
export async function readOverlayCache(file: string): Promise<StoredOverlay | undefined> {
  try {
    const content = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
    if (typeof content.version !== 'number' || !Array.isArray(content.entries)) return undefined;
    return { version: content.version, overlay: new Map(content.entries) };
  } catch {
    return undefined;
  }
}
