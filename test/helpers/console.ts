/**
 * Shared steps of the console's browser tests: sign in, take the two screenshots of a page
 * (laptop 1366 px and phone 375 px wide) into test-results/ui/, and check that the page does not
 * scroll sideways on the phone (its own tables may; the page may not).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

export const SHOTS = fileURLToPath(new URL('../../test-results/ui/', import.meta.url));
export const LAPTOP = { width: 1366, height: 900 };
export const PHONE = { width: 375, height: 812 };

export async function signIn(page: Page, url: string, key: string, hash = '#/usage'): Promise<void> {
  await page.goto(`${url}/ui/${hash}`);
  await page.getByLabel('Master key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation').waitFor();
}

/** How far the page is wider than the window, px (0: no sideways scrolling). */
export async function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;
}

/** Runs in the page: whether every chart canvas ends within the window (typed here without the DOM lib). */
function canvasesFitWindow(): boolean {
  const page = globalThis as unknown as {
    innerWidth: number;
    document: { querySelectorAll(selector: string): ArrayLike<{ getBoundingClientRect(): { right: number } }> };
  };
  return Array.from(page.document.querySelectorAll('canvas')).every((canvas) => canvas.getBoundingClientRect().right <= page.innerWidth);
}

/**
 * Screenshots `name` at 1366 px and at 375 px (`<name>-phone.png`), waiting after each resize for
 * `ready` (a selector that shows the page has drawn), and answers the phone's sideways overflow.
 */
export async function shootBoth(page: Page, name: string, ready: string): Promise<number> {
  mkdirSync(SHOTS, { recursive: true });
  // No focus ring or text selection in the pictures.
  await page.evaluate('document.activeElement?.blur()');
  await page.setViewportSize(LAPTOP);
  await page.waitForSelector(ready);
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  await page.setViewportSize(PHONE);
  await page.waitForSelector(ready);
  // Charts resize on a ResizeObserver callback: wait until the canvas fits the phone. A
  // function, not a string: Playwright polls a string predicate with eval, which the console's
  // CSP (no 'unsafe-eval') refuses whenever the first check does not already pass.
  await page.waitForFunction(canvasesFitWindow);
  const overflow = await sidewaysOverflow(page);
  await page.screenshot({ path: `${SHOTS}${name}-phone.png`, fullPage: true });
  await page.setViewportSize(LAPTOP);
  return overflow;
}
