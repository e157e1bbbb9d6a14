/**
 * Reads every `*.yaml` / `*.yml` in the prompts dir. A bad file becomes a fault with its path
 * and does not stop the others. Files whose text did not change since the last read keep
 * their compiled form, so a reload after one edit recompiles one file.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { CompileResult, PromptCompiler } from './compile-prompt.js';
import type { Prompt, PromptFault } from './prompt-types.js';

export interface DirContents {
  prompts: Prompt[];
  faults: PromptFault[];
  /** True when the dir does not exist (no prompts, not an error). */
  missing: boolean;
}

export function isPromptFile(name: string): boolean {
  return !name.startsWith('.') && (name.endsWith('.yaml') || name.endsWith('.yml'));
}

function parseFile(text: string, compiler: PromptCompiler, path: string): CompileResult {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    return { ok: false, faults: [`not valid YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
  return compiler.compile(raw, { kind: 'file', path });
}

export class PromptDirLoader {
  private readonly compiled = new Map<string, { text: string; result: CompileResult }>();

  constructor(
    readonly dir: string,
    private readonly compiler: PromptCompiler,
  ) {}

  async load(): Promise<DirContents> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter(isPromptFile).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { prompts: [], faults: [], missing: true };
      return { prompts: [], faults: [{ path: this.dir, fault: `cannot read the prompts dir (${code ?? String(err)})` }], missing: false };
    }
    const files = await Promise.all(
      names.map(async (name) => {
        const path = join(this.dir, name);
        // A file removed between readdir and read is simply gone.
        const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : err));
        return { path, text };
      }),
    );
    const prompts: Prompt[] = [];
    const faults: PromptFault[] = [];
    const seen = new Map<string, string>();
    const live = new Set<string>();
    for (const { path, text } of files) {
      if (text === undefined) continue;
      if (text instanceof Error) {
        faults.push({ path, fault: `cannot read (${(text as NodeJS.ErrnoException).code ?? text.message})` });
        continue;
      }
      live.add(path);
      let entry = this.compiled.get(path);
      if (!entry || entry.text !== text) {
        entry = { text, result: parseFile(text, this.compiler, path) };
        this.compiled.set(path, entry);
      }
      const { result } = entry;
      if (!result.ok) {
        for (const fault of result.faults) faults.push({ path, fault });
        continue;
      }
      const id = `${result.prompt.spec.name}@${result.prompt.spec.version}`;
      const other = seen.get(id);
      if (other) {
        faults.push({ path, fault: `${id} is already defined in ${other}` });
        continue;
      }
      seen.set(id, path);
      prompts.push(result.prompt);
    }
    for (const path of this.compiled.keys()) if (!live.has(path)) this.compiled.delete(path);
    return { prompts, faults, missing: false };
  }
}
