/**
 * Debian's Chromium for the console's browser tests, driven by playwright-core (which cannot
 * download a browser of its own here). `ensureChromium` installs the package when it is
 * missing and this runs as root with apt-get (global setup calls it, as .ci/run does);
 * `launchChromium` fails with a message saying what to install, never skips.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Without the background-networking flags Chromium keeps dialling Google on a closed network. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const APT_GET = '/usr/bin/apt-get';

export interface EnsureOptions {
  path?: string;
  /** Whether we may install packages; by default, running as root with apt-get present. */
  mayInstall?: boolean;
}

/** Installs Debian's `chromium` when it is missing and we may; answers why not otherwise. */
export function ensureChromium({ path = CHROMIUM_PATH, mayInstall = process.getuid?.() === 0 && existsSync(APT_GET) }: EnsureOptions = {}): string | undefined {
  if (existsSync(path)) return undefined;
  if (!mayInstall) {
    return `no Chromium at ${path}, and installing it needs root and apt-get: run \`apt-get install -y chromium\` (or set CHROMIUM_PATH)`;
  }
  console.log(`[global-setup] no Chromium at ${path}: installing Debian's chromium for the console tests`);
  try {
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'], {
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: 15 * 60_000,
    });
  } catch (err) {
    return `installing chromium with apt-get failed: ${(err as Error).message}`;
  }
  return existsSync(path) ? undefined : `apt-get installed chromium but ${path} is still missing`;
}

/** Starts headless Chromium; Playwright gives it a new, empty profile and removes it on close. */
export async function launchChromium(path = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(path)) {
    throw new Error(
      `The console tests need Debian's Chromium at ${path}. test/global-setup.ts and .ci/run install it ` +
        'when running as root with apt-get; otherwise run `apt-get install -y chromium` or set CHROMIUM_PATH.',
    );
  }
  // Loaded here, not at the top: global setup imports this file and needs no browser driver.
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: path, headless: true, args: ARGS });
}
