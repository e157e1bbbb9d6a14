/**
 * Runs one doc example as a reader would: shell blocks in bash, JS in node, TS through tsx.
 * The shell blocks of a page share their variables, as if typed into one terminal: each block
 * ends by writing the variables it made to the page's state file, and the next one reads it.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunResult {
  code: number | null;
  output: string;
}

/** Bounds one example; the gateway answers the mock at once, so anything near this is a hang. */
const EXAMPLE_TIMEOUT_MS = 15_000;

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends what the example started too.
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (part: Buffer) => (output += part.toString()));
    child.stderr.on('data', (part: Buffer) => (output += part.toString()));
    const timer = setTimeout(() => {
      output += `\n[docs-test] killed after ${EXAMPLE_TIMEOUT_MS} ms`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, EXAMPLE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The environment examples see: what a shell has, plus what the page told the reader to set. */
export function exampleEnv(pageEnv: Record<string, string>): NodeJS.ProcessEnv {
  const { PATH, HOME, LANG, TMPDIR } = process.env;
  return { PATH, HOME, LANG: LANG ?? 'C.UTF-8', ...(TMPDIR ? { TMPDIR } : {}), ...pageEnv };
}

/**
 * `curl` fails on an HTTP error status (`--fail-with-body` keeps the error body in the output)
 * unless the block shows an error on purpose; either way it gives up after 10 s.
 */
function shellScript(block: string, stateFile: string, expectError: boolean): string {
  const fail = expectError ? '' : '--fail-with-body ';
  return [
    'set -euo pipefail',
    `curl() { command curl ${fail}--max-time 10 "$@"; }`,
    '__docs_base=" $(compgen -v | tr "\\n" " ") "',
    `if [ -f ${JSON.stringify(stateFile)} ]; then source ${JSON.stringify(stateFile)}; fi`,
    block,
    // Only a block that ran to its end hands its variables on.
    `for __docs_v in $(compgen -v); do case "$__docs_base" in *" $__docs_v "*) ;; __docs_*|BASH*|_) ;; *) declare -p "$__docs_v" ;; esac; done > ${JSON.stringify(stateFile)}`,
    '',
  ].join('\n');
}

/**
 * Commands that install, start servers or containers, or change the checkout: an example with
 * one must be marked `skip`, never run by a test (an `npm ci` would replace node_modules).
 */
const UNSAFE = /\b(npm\s+(ci|i|install|start|test|run)|npx|docker|git|k6|claude|rm)\b/;

/** Runs in `cwd`, a directory outside the checkout, so a stray relative path cannot touch it. */
export async function runShell(block: string, opts: { dir: string; cwd: string; name: string; stateFile: string; env: NodeJS.ProcessEnv; expectError: boolean }): Promise<RunResult> {
  const unsafe = UNSAFE.exec(block.replace(/#.*$/gm, ''));
  if (unsafe) return { code: null, output: `[docs-test] not run: "${unsafe[0]}" must not run in a test; mark the block <!-- docs-test: skip <reason> -->` };
  const file = join(opts.dir, `${opts.name}.sh`);
  writeFileSync(file, shellScript(block, opts.stateFile, opts.expectError));
  return run('bash', [file], opts.env, opts.cwd);
}

/** JS and TS blocks are files under the repository, so `openai`, `ai`… resolve from its node_modules. */
export async function runScript(block: string, kind: 'js' | 'ts', opts: { dir: string; name: string; env: NodeJS.ProcessEnv; cwd: string }): Promise<RunResult> {
  const file = join(opts.dir, `${opts.name}.${kind === 'ts' ? 'mts' : 'mjs'}`);
  writeFileSync(file, block);
  const args = kind === 'ts' ? ['--import', 'tsx', file] : [file];
  return run(process.execPath, args, opts.env, opts.cwd);
}
