/**
 * The admin UI under its Content-Security-Policy in a real browser (Debian chromium +
 * playwright-core) against the real service: every page draws with no CSP violation and no
 * console error, the boots chart still gets its bar heights (set through the CSSOM), and the
 * policy is really enforced (an inline style attribute and an inline script are refused).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { removeDir, startNetroot } from '../../helpers/service.js';
import { launch, nav, newPage, signIn } from './browser.js';

const MAC = '52:54:00:c5:00:01';

test('every UI page draws under the CSP without a violation; the policy is enforced', async () => {
  const nr = await startNetroot();
  const errors: string[] = [];
  let browser: Browser | null = null;
  try {
    assert.equal((await nr.api('POST', '/nodes', { mac: MAC, fqdn: 'csp.lab.example', ipv4: '10.9.0.5' })).status, 201);
    // A boot in the chart: a "booted" report counts only from the node itself (its address or its
    // boot token), so the event is put on its timeline as the recorder would write it.
    const db = new Database(join(nr.dataDir, 'netroot.db'));
    db.prepare("INSERT INTO events (mac, kind, detail, at) VALUES (?, 'booted', '{}', ?)").run(MAC, Date.now());
    db.close();
    browser = await launch();
    const { page } = await newPage(browser, errors);
    // Each violation, as the page itself sees it (console errors are collected by newPage too).
    await page.addInitScript('document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}`))');
    await signIn(page, nr.url, nr.token);
    // The boots chart: the booted report above gives the current hour a full-height bar.
    await page.locator('.bars .bar').first().waitFor();
    await page.waitForFunction('() => [...document.querySelectorAll(".bars .bar")].some((b) => b.getBoundingClientRect().height > 100)');
    for (const [link, ready] of [
      ['Nodes', `tr[data-mac="${MAC}"]`],
      ['Discovered', 'main h1'],
      ['Golden hosts', 'main h1'],
      ['Images', 'main h1'],
      ['Exports', 'main h1'],
      ['Dashboard', '.bars .bar'],
    ] as const) {
      await nav(page, link).click();
      await page.locator(ready).first().waitFor();
    }
    await page.goto(`${nr.url}/#/nodes/${MAC}`);
    await page.locator('#timeline li').first().waitFor();
    await nav(page, 'Nodes').click();
    await page.getByRole('button', { name: /Register/ }).first().click();
    await page.locator('dialog[open]').waitFor();
    await page.keyboard.press('Escape');
    assert.deepEqual(errors, [], 'no CSP violation or console error on any page');

    // The policy is on: what it exists to stop is stopped, and reported.
    await page.evaluate('document.body.setAttribute("style", "background: rgb(255, 0, 0)")');
    await page.evaluate('document.head.append(Object.assign(document.createElement("script"), { textContent: "window.injected = true" }))');
    for (let i = 0; i < 50 && errors.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    assert.notEqual(await page.evaluate('getComputedStyle(document.body).backgroundColor'), 'rgb(255, 0, 0)', 'inline style refused');
    assert.equal(await page.evaluate('window.injected === true'), false, 'inline script refused');
    assert.ok(errors.some((e) => /style-src/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /script-src/.test(e)), errors.join('\n'));
  } finally {
    await browser?.close();
    await nr.stop();
    removeDir(nr.dataDir);
  }
});
