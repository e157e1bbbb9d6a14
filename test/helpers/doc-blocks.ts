/**
 * Reads the fenced examples of a Markdown page and the `<!-- docs-test: … -->` markers that say
 * how the doc test treats them (docs/development.md, "Docs that run", is the reference).
 *
 * Page markers, anywhere on the page:
 *   config <file>          the gateway config the page's examples run against (default config/gateway.yaml)
 *   env NAME=value …       environment the page tells the reader to set, for the gateway and the examples
 * Block markers, on the line right above a fence:
 *   skip <reason>          not run (the reason is the test's name)
 *   expect-error           a shell block that shows an error answer: curl may not fail on a 4xx
 *   excerpt <file>         a YAML block quoted from a file: its content must be found in that file
 *   output                 a JSON block showing what the shell block before it prints: every field
 *                          shown must be in the real answer (a string with `…` matches by its start)
 */
import { readFileSync } from 'node:fs';

export type BlockKind = 'shell' | 'js' | 'ts' | 'yaml' | 'json' | 'other';

export interface DocBlock {
  kind: BlockKind;
  /** The fence's info string, e.g. `sh`. */
  lang: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
  skip?: string;
  expectError: boolean;
  excerpt?: string;
  /** A JSON block that shows the previous shell block's answer. */
  output: boolean;
}

export interface DocPage {
  file: string;
  config: string;
  env: Record<string, string>;
  blocks: DocBlock[];
}

const KINDS: Record<string, BlockKind> = {
  sh: 'shell', bash: 'shell', shell: 'shell',
  js: 'js', javascript: 'js', mjs: 'js',
  ts: 'ts', typescript: 'ts',
  yaml: 'yaml', yml: 'yaml',
  json: 'json',
};

const MARKER = /^\s*<!--\s*docs-test:\s*(\S+)\s*(.*?)\s*-->\s*$/;
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;

export function parseDocPage(file: string, text = readFileSync(file, 'utf8')): DocPage {
  const lines = text.split('\n');
  const page: DocPage = { file, config: 'config/gateway.yaml', env: {}, blocks: [] };
  const none = (): Pick<DocBlock, 'skip' | 'expectError' | 'excerpt' | 'output'> => ({ expectError: false, output: false });
  let pending = none();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const marker = MARKER.exec(line);
    if (marker) {
      const [, verb = '', rest = ''] = marker;
      if (verb === 'config') page.config = rest;
      else if (verb === 'env') {
        for (const pair of rest.split(/\s+/).filter(Boolean)) {
          const eq = pair.indexOf('=');
          if (eq <= 0) throw new Error(`${file}:${i + 1}: docs-test env wants NAME=value, got "${pair}"`);
          page.env[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
      } else if (verb === 'skip') {
        if (!rest) throw new Error(`${file}:${i + 1}: docs-test skip needs a reason`);
        pending.skip = rest;
      } else if (verb === 'expect-error') pending.expectError = true;
      else if (verb === 'excerpt') pending.excerpt = rest;
      else if (verb === 'output') pending.output = true;
      else throw new Error(`${file}:${i + 1}: unknown docs-test marker "${verb}"`);
      continue;
    }
    const fence = FENCE.exec(line);
    if (!fence) {
      // A block marker holds only for the fence right below it (blank lines aside).
      if (line.trim() !== '') pending = none();
      continue;
    }
    const [, indent = '', ticks = '```', lang = ''] = fence;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const inner = lines[j] ?? '';
      if (inner.trimStart().startsWith(ticks)) break;
      body.push(inner.startsWith(indent) ? inner.slice(indent.length) : inner);
    }
    page.blocks.push({ kind: KINDS[lang.toLowerCase()] ?? 'other', lang, text: body.join('\n') + '\n', line: i + 1, ...pending });
    pending = none();
    i = j;
  }
  return page;
}

/** The docs address the gateway as localhost:8787 or 127.0.0.1:8787; the test's listens elsewhere. */
export function withPort(text: string, port: number): string {
  return text.replace(/(?:https?:\/\/)?(?:localhost|127\.0\.0\.1):8787/g, `http://127.0.0.1:${port}`);
}

/**
 * Whether everything `part` says is also in `whole`: mappings key by key, lists item by item
 * (each item of `part` matches some item of `whole`), scalars equal.
 */
export function containedIn(part: unknown, whole: unknown, elided = false): boolean {
  if (Array.isArray(part)) {
    return Array.isArray(whole) && part.every((item) => whole.some((candidate) => containedIn(item, candidate, elided)));
  }
  if (part !== null && typeof part === 'object') {
    if (whole === null || typeof whole !== 'object' || Array.isArray(whole)) return false;
    const w = whole as Record<string, unknown>;
    return Object.entries(part).every(([key, value]) => Object.hasOwn(w, key) && containedIn(value, w[key], elided));
  }
  // In a shown answer, "prompt-3f2c…" stands for any id that starts so.
  if (elided && typeof part === 'string' && part.includes('…')) {
    return typeof whole === 'string' && whole.startsWith(part.slice(0, part.indexOf('…')));
  }
  return Object.is(part, whole);
}
