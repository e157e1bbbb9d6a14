/**
 * Hot reload: watches the prompts dir and calls `onChange` once a burst of events settles.
 * Editors save through temp files and renames, several events per save; the debounce turns
 * them into one reload.
 */
import { watch, type FSWatcher } from 'node:fs';
import { isPromptFile } from './load-prompt-dir.js';

export interface DirWatcher {
  close(): void;
}

export interface WatchOptions {
  debounceMs: number;
  onError: (err: Error) => void;
}

/** Starts watching; throws when the dir cannot be watched (ENOENT when it does not exist). */
export function watchPromptDir(dir: string, onChange: () => void, options: WatchOptions): DirWatcher {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, options.debounceMs);
    timer.unref();
  };
  // Not persistent: the watcher alone must not keep a stopping process alive.
  const watcher: FSWatcher = watch(dir, { persistent: false }, (_event, filename) => {
    // Some platforms give no file name; reload then, to be safe.
    if (filename === null || isPromptFile(filename.toString())) schedule();
  });
  watcher.on('error', (err) => {
    clearTimeout(timer);
    watcher.close();
    options.onError(err);
  });
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
