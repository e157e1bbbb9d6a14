/**
 * The prompts being served, by name and version and by route. Two sources feed it: the prompts
 * dir and the shared store (prompts published through the admin API); a stored prompt wins over
 * a file with the same name and version. Each source is swapped whole, and the indexes are
 * rebuilt off the request path, so a lookup is two map reads.
 */
import type { Prompt, PromptFault } from './prompt-types.js';

/** Every version of one prompt, newest first. */
export interface PromptVersions {
  name: string;
  latest: Prompt;
  versions: readonly Prompt[];
}

const VERSIONED = /^(.*)@(\d+)$/;

export class PromptRegistry {
  private files: readonly Prompt[] = [];
  private stored: readonly Prompt[] = [];
  private byName = new Map<string, PromptVersions>();
  private byRoute = new Map<string, string>();
  /** Route conflicts found while merging the sources. */
  private conflicts: PromptFault[] = [];
  /** Bumped on every change, so derived documents (OpenAPI) know when to rebuild. */
  revision = 0;

  setFilePrompts(prompts: readonly Prompt[]): void {
    this.files = prompts;
    this.rebuild();
  }

  setStoredPrompts(prompts: readonly Prompt[]): void {
    this.stored = prompts;
    this.rebuild();
  }

  /** The file prompts of `name` (all versions, or one), for retiring them on disk. */
  filePrompts(name: string, version?: number): Prompt[] {
    return this.files.filter((p) => p.spec.name === name && (version === undefined || p.spec.version === version));
  }

  storedPrompts(): readonly Prompt[] {
    return this.stored;
  }

  routeConflicts(): readonly PromptFault[] {
    return this.conflicts;
  }

  /** The prompt a request path names: `/prompts/<name or path>` for the newest, with `@<version>` for one. */
  resolve(urlPath: string): Prompt | undefined {
    let route = urlPath.length > 1 && urlPath.endsWith('/') ? urlPath.slice(0, -1) : urlPath;
    let version: number | undefined;
    const versioned = VERSIONED.exec(route);
    if (versioned) {
      route = versioned[1]!;
      version = Number(versioned[2]);
    }
    const name = this.byRoute.get(route);
    return name === undefined ? undefined : this.get(name, version);
  }

  get(name: string, version?: number): Prompt | undefined {
    const entry = this.byName.get(name);
    if (!entry) return undefined;
    return version === undefined ? entry.latest : entry.versions.find((p) => p.spec.version === version);
  }

  /** Where the newest version is served: its `path` unless another prompt holds that route. */
  routeOf(entry: PromptVersions): string {
    return this.byRoute.get(entry.latest.route) === entry.name ? entry.latest.route : `/prompts/${entry.name}`;
  }

  list(): PromptVersions[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private rebuild(): void {
    const merged = new Map<string, Prompt>();
    for (const prompt of this.files) merged.set(`${prompt.spec.name}@${prompt.spec.version}`, prompt);
    for (const prompt of this.stored) merged.set(`${prompt.spec.name}@${prompt.spec.version}`, prompt);
    const grouped = new Map<string, Prompt[]>();
    for (const prompt of merged.values()) {
      const list = grouped.get(prompt.spec.name) ?? [];
      list.push(prompt);
      grouped.set(prompt.spec.name, list);
    }
    const byName = new Map<string, PromptVersions>();
    const byRoute = new Map<string, string>();
    const conflicts: PromptFault[] = [];
    for (const [name, list] of grouped) {
      list.sort((a, b) => b.spec.version - a.spec.version);
      byName.set(name, { name, latest: list[0]!, versions: list });
      byRoute.set(`/prompts/${name}`, name);
    }
    // Custom paths after every default route: a path never takes another prompt's own name.
    for (const entry of byName.values()) {
      const route = entry.latest.route;
      const owner = byRoute.get(route);
      if (owner === undefined) byRoute.set(route, entry.name);
      else if (owner !== entry.name) {
        const where = entry.latest.source.kind === 'file' ? entry.latest.source.path : `store:${entry.name}@${entry.latest.spec.version}`;
        conflicts.push({ path: where, fault: `path ${route} is already the route of prompt "${owner}"; served at /prompts/${entry.name} only` });
      }
    }
    this.byName = byName;
    this.byRoute = byRoute;
    this.conflicts = conflicts;
    this.revision++;
  }
}
