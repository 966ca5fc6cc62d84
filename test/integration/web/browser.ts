/**
 * Browser helpers for the web UI tests: Debian's chromium driven by playwright-core (no
 * downloaded browsers here), sign-in, screenshots into docs/screenshots/ for the README.
 * The UI runs under its Content-Security-Policy here too: give page.waitForFunction a function
 * ("() => ..."), which playwright evaluates once; a bare expression is eval()'d at every poll,
 * which the policy refuses (no 'unsafe-eval').
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../../helpers/service.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = join(ROOT, 'docs/screenshots');

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/deps/web.txt) to run the web UI tests`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No sandbox: tests run as root in a container. The rest keeps chromium off the network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/**
 * A fresh context (own sessionStorage) at a laptop-sized viewport; page errors fail the test.
 * With `clock`, the page's Date reads that time (Playwright's fixed time: timers still run in
 * real time) from the first page load on; move it with setPageClock as the service's clock moves,
 * so "3 min ago" and the dashboard's hour labels come out the same on every run.
 */
export async function newPage(browser: Browser, errors: string[], opts: { clock?: Date | string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: 'en-GB', timezoneId: 'UTC' });
  if (opts.clock !== undefined) await context.clock.setFixedTime(new Date(opts.clock));
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (400|401|403|404|409)|ERR_CONNECTION_REFUSED|ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_NETWORK_CHANGED/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return { context, page };
}

/** Sets the time the page's Date reads (what it shows next is computed against it). */
export async function setPageClock(page: Page, at: Date | string): Promise<void> {
  await page.context().clock.setFixedTime(new Date(at));
}

export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/#/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/**
 * Screenshot styles. Times, version names, fingerprints and ports come out the same on every run
 * (fixed clocks, a fixed host key, fixed ports and paths), so they are drawn as they are. `mask`
 * is for a value that differs between runs however the test is set up (say, the free space of
 * this machine's disk): each use names its reason beside it; such an element is drawn as a
 * fixed-size grey bar so the committed pictures stay unchanged when the UI did not change.
 */
function stableStyle(mask: string[]): string {
  return [
    ...(mask.length
      ? [
          `${mask.join(', ')} { display: inline-block !important; width: 9em !important; height: 1.1em !important; overflow: hidden !important; color: transparent !important; background: #d9dde4 !important; border-radius: 3px !important; vertical-align: middle !important; white-space: nowrap !important; }`,
          `${mask.map((x) => `${x} *`).join(', ')} { visibility: hidden !important; }`,
        ]
      : []),
    // The caret and any running animation would differ between runs.
    '* { caret-color: transparent !important; animation: none !important; transition: none !important; }',
  ].join('\n');
}

export async function shot(page: Page, name: string, opts: { fullPage?: boolean; keepFocus?: boolean; mask?: string[] } = {}): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  // A focus ring on the search box is noise in a README picture.
  if (!opts.keepFocus) await page.evaluate('document.activeElement?.blur()');
  // Hover styles would follow wherever the last click left the mouse.
  await page.mouse.move(0, 0);
  // "Saved" banners hide by themselves after a few seconds: whether one is still up would depend
  // on the machine's speed, so wait until it is gone (error banners stay and are part of the picture).
  await page.locator('#banner:not(.error)').waitFor({ state: 'hidden' });
  // Wait for fonts/layout to settle so screenshots do not catch a half-drawn page.
  await page.evaluate('document.fonts.ready');
  // Not screenshot({style}): it adds a <style> element, which the UI's CSP refuses. A constructed
  // stylesheet is CSSOM, which the CSP allows; it is taken away after the picture.
  await page.evaluate(`document.adoptedStyleSheets = [...document.adoptedStyleSheets, Object.assign(new CSSStyleSheet(), { shot: true })]; document.adoptedStyleSheets.at(-1).replaceSync(${JSON.stringify(stableStyle(opts.mask ?? []))})`);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: opts.fullPage ?? false, animations: 'disabled', caret: 'hide' });
  await page.evaluate('document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => !s.shot)');
  // A value the page failed to format shows up as one of these words.
  const text = await page.locator('body').innerText();
  const bad = /\b(null|undefined|NaN)\b|\[object Object\]/.exec(text);
  if (bad) throw new Error(`page ${name} shows ${JSON.stringify(bad[0])} in: ${text.slice(Math.max(0, bad.index - 80), bad.index + 40)}`);
}

/** A link of the main navigation bar. */
export function nav(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}
