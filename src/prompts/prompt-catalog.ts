/**
 * Keeps the prompt registry current: loads the prompts dir at start and again whenever it
 * changes on disk, and follows the shared Redis store (pub/sub plus a revision poll).
 * Publishing and retiring through the admin API live in publish-prompt.ts.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { createPromptCompiler, type CompileResult } from './compile-prompt.js';
import { PromptDirLoader } from './load-prompt-dir.js';
import { PromptRegistry } from './prompt-registry.js';
import type { Prompt, PromptFault } from './prompt-types.js';
import { RedisPromptStore } from './redis-prompt-store.js';
import { serialized } from '../core/serialized.js';
import { watchPromptDir, type DirWatcher } from './watch-prompt-dir.js';

export interface PromptCatalogOptions {
  dir: string;
  /** Shared store for admin-published prompts; without it they are written to `dir`. */
  redis?: Redis;
  keyPrefix: string;
  log: FastifyBaseLogger;
  /** Whether a prompt's `model` can be served; prompts naming another are kept but reported. */
  hasModel?: (name: string) => boolean;
  /** Quiet time after a change on disk before reloading, ms. */
  debounceMs?: number;
  /** How often to check the store's revision in case a pub/sub message was missed, ms. */
  pollMs?: number;
}

export class PromptCatalog {
  readonly registry = new PromptRegistry();
  readonly compiler = createPromptCompiler();
  /** The shared store of admin-published prompts; absent without Redis. */
  readonly store?: RedisPromptStore;
  private readonly loader: PromptDirLoader;
  private readonly storedCompiled = new Map<string, { text: string; result: CompileResult }>();
  private dirFaults: PromptFault[] = [];
  private storeFaults: PromptFault[] = [];
  private watcher?: DirWatcher;
  private subscriber?: Redis;
  private pollTimer?: NodeJS.Timeout;
  private lastRevision?: string;
  private closed = false;
  /** Re-reads the prompts dir; concurrent calls coalesce. */
  readonly reloadDir = serialized(() => this.guard('reading the prompts dir', () => this.loadDir()));
  /** Re-reads the shared store; concurrent calls coalesce. */
  readonly syncStore = serialized(() => this.guard('reading published prompts', () => this.loadStore()));

  get dir(): string {
    return this.options.dir;
  }

  private constructor(private readonly options: PromptCatalogOptions) {
    this.loader = new PromptDirLoader(options.dir, this.compiler);
    if (options.redis) this.store = new RedisPromptStore(options.redis, options.keyPrefix);
  }

  static async start(options: PromptCatalogOptions): Promise<PromptCatalog> {
    const catalog = new PromptCatalog(options);
    await catalog.reloadDir();
    catalog.watchDir();
    if (catalog.store) {
      await catalog.syncStore();
      catalog.follow(options.redis!, catalog.store);
    }
    return catalog;
  }

  /** Files and stored prompts that are not served (or cannot answer), with the reason. */
  faults(): PromptFault[] {
    return [...this.dirFaults, ...this.storeFaults, ...this.registry.routeConflicts(), ...this.modelFaults()];
  }

  /** Prompts whose model this gateway cannot serve: listed, but their calls answer 503. */
  private modelFaults(): PromptFault[] {
    const { hasModel } = this.options;
    if (!hasModel) return [];
    const faults: PromptFault[] = [];
    for (const entry of this.registry.list()) {
      for (const prompt of entry.versions) {
        if (hasModel(prompt.spec.model)) continue;
        const path = prompt.source.kind === 'file' ? prompt.source.path : `store:${entry.name}@${prompt.spec.version}`;
        faults.push({ path, fault: `/model: "${prompt.spec.model}" is not available on this gateway; calls answer 503` });
      }
    }
    return faults;
  }

  /** Background reloads must never reject unobserved: a failure is logged and the last good set stays. */
  private async guard(what: string, task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (err) {
      this.options.log.error({ err }, `prompts: failed ${what}; keeping the prompts already loaded`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    this.watcher?.close();
    this.subscriber?.disconnect();
  }

  private async loadDir(): Promise<void> {
    const { log, dir } = this.options;
    const contents = await this.loader.load();
    this.dirFaults = contents.faults;
    for (const { path, fault } of contents.faults) log.warn({ path, fault }, `prompt file skipped: ${path}: ${fault}`);
    this.registry.setFilePrompts(contents.prompts);
    this.logConflicts();
    this.logModelFaults(contents.prompts);
    if (contents.missing) log.info({ dir }, 'no prompts dir; prompt APIs start empty');
    else log.info({ dir, prompts: contents.prompts.length, skipped: contents.faults.length }, 'prompts loaded');
  }

  private async loadStore(): Promise<void> {
    if (!this.store || this.closed) return;
    let revision: string;
    let entries;
    try {
      // Revision first: a change made between the two reads bumps it again and is read next time.
      revision = await this.store.revision();
      entries = await this.store.readAll();
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'cannot read published prompts from Redis; keeping the last ones');
      return;
    }
    const prompts: Prompt[] = [];
    const faults: PromptFault[] = [];
    const live = new Set<string>();
    for (const { id, text } of entries) {
      live.add(id);
      let entry = this.storedCompiled.get(id);
      if (!entry || entry.text !== text) {
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch {
          raw = undefined;
        }
        entry = { text, result: this.compiler.compile(raw, { kind: 'store' }) };
        this.storedCompiled.set(id, entry);
      }
      if (entry.result.ok) prompts.push(entry.result.prompt);
      else for (const fault of entry.result.faults) faults.push({ path: `store:${id}`, fault });
    }
    for (const id of this.storedCompiled.keys()) if (!live.has(id)) this.storedCompiled.delete(id);
    this.lastRevision = revision;
    this.storeFaults = faults;
    for (const { path, fault } of faults) this.options.log.warn({ path, fault }, `published prompt skipped: ${path}: ${fault}`);
    this.registry.setStoredPrompts(prompts);
    this.logConflicts();
    this.logModelFaults(prompts);
  }

  private logModelFaults(loaded: readonly Prompt[]): void {
    const { hasModel, log } = this.options;
    for (const prompt of loaded) {
      if (hasModel && !hasModel(prompt.spec.model)) {
        log.warn({ prompt: prompt.spec.name, model: prompt.spec.model }, `prompt ${prompt.spec.name} uses model "${prompt.spec.model}", which is not available; its calls answer 503`);
      }
    }
  }

  private logConflicts(): void {
    for (const { path, fault } of this.registry.routeConflicts()) this.options.log.warn({ path, fault }, `prompt route conflict: ${fault}`);
  }

  /** Starts watching the dir if it is not watched yet (it may have just been created). */
  watchDir(): void {
    if (this.watcher || this.closed) return;
    const { dir, log } = this.options;
    const onError = (err: Error) => {
      this.watcher = undefined;
      // Removed or replaced dir: reload (it serves nothing, or what a new dir holds) and say changes need a restart.
      void this.reloadDir();
      log.warn({ dir, err: err.message }, 'prompts dir is no longer watched; further changes need a restart or an admin publish');
    };
    try {
      this.watcher = watchPromptDir(dir, () => void this.reloadDir(), { debounceMs: this.options.debounceMs ?? 100, onError });
    } catch (err) {
      // A missing dir was reported by the load; it is watched once an admin publish creates it.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ dir, err: (err as Error).message }, 'cannot watch the prompts dir; changes need a restart');
    }
  }

  /** Applies changes other instances publish: at once through pub/sub, and by polling as a fallback. */
  private follow(redis: Redis, store: RedisPromptStore): void {
    const subscriber = redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', (err: Error) => this.options.log.debug({ err: err.message }, 'prompt subscriber connection error'));
    subscriber.on('message', () => void this.syncStore());
    subscriber.subscribe(store.channel).catch((err: Error) => {
      this.options.log.warn({ err: err.message }, 'cannot subscribe to prompt changes; relying on polling');
    });
    this.pollTimer = setInterval(() => {
      store.revision().then(
        (revision) => {
          if (revision !== this.lastRevision) void this.syncStore();
        },
        () => undefined,
      );
    }, this.options.pollMs ?? 2000);
    this.pollTimer.unref();
  }
}
