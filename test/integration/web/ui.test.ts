/**
 * The admin UI in a real browser (Debian chromium + playwright-core) against the real service
 * (bin/netroot.js serve on a temp data dir): sign-in, register with a field error, edit, disable,
 * import with preview, sort/filter, delete, read-only token, lost connection banner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { claimFixedDir } from '../../helpers/fixed-dir.js';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';
import { launch, nav, newPage, shot, signIn } from './browser.js';

/**
 * A free port below the kernel's ephemeral range (ip_local_port_range starts at 32768 here). The
 * test stops the service and starts it again on the same port while the page keeps trying to
 * reconnect: a port in the ephemeral range can meanwhile be taken by an outgoing connection (the
 * browser's own retry can even connect to itself), and the restart then fails with EADDRINUSE.
 */
async function freePort(): Promise<number> {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const top = Math.min(low ?? 32768, 32768);
  for (let i = 0; i < 200; i++) {
    const p = 20_000 + Math.floor(Math.random() * (top - 20_000));
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return p;
  }
  throw new Error('no free port below the ephemeral range');
}

const row = (page: Page, mac: string) => page.locator(`tr[data-mac="${mac}"]`);
// The service and the pages read this fixed time: the export table's last apply, shown on the
// exports screenshot, is the same on every run.
const CLOCK = '2026-11-26T09:00:00Z';

test('admin UI: sign in, register (field error), edit, disable, import preview, delete, read-only, reconnect', async (t) => {
  const port = await freePort();
  // A fixed data dir: its path is printed in the export table the exports screenshot shows.
  const { dir: dataDir, fixed } = claimFixedDir('netroot-web-ui');
  if (!fixed) console.error(`web UI test: another run holds ${join(tmpdir(), 'netroot-web-ui')}; this one uses ${dataDir}: do not commit the screenshots of this run`);
  // The Ganesha backend only renders and writes files under the data dir here: no NFS server
  // runs, so an apply writes the file and the page says it takes effect when Ganesha starts.
  const config = {
    http: { listen: '127.0.0.1', port },
    nfs: { backend: 'ganesha', nodeNetworks: ['10.0.0.0/24'], ganesha: { exportsFile: join(dataDir, 'netroot-ganesha.conf'), pidFile: join(dataDir, 'ganesha.pid'), logPath: null, mainConfig: null } },
  };
  let nr: Netroot = await startNetroot({ dataDir, config, clock: CLOCK });
  const token = nr.token;
  const errors: string[] = [];
  let browser: Browser | null = null;
  try {
    browser = await launch();
    const { page } = await newPage(browser, errors, { clock: CLOCK });

    await t.test('a wrong token is refused beside the field', async () => {
      await page.goto(`${nr.url}/`);
      await page.getByLabel('API token').waitFor();
      assert.equal(await page.getByRole('link', { name: 'Nodes' }).count(), 0, 'no navigation before sign-in');
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false);
      await shot(page, 'signin');
      await page.getByLabel('API token').fill('nrt_wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const err = page.locator('#token-err');
      await err.waitFor();
      assert.match(await err.innerText(), /not valid/);
      assert.equal(await page.getByLabel('API token').getAttribute('aria-invalid'), 'true');
    });

    await t.test('sign in with the admin token; it is kept in sessionStorage only', async () => {
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      assert.equal(await page.evaluate('sessionStorage.getItem("netroot.token")'), token);
      assert.equal(await page.evaluate('localStorage.length'), 0);
      assert.match(await page.locator('#who-name').innerText(), /admin/);
    });

    await t.test('keyboard: the node form opens with Enter, Escape closes it and focus returns', async () => {
      await nav(page, 'Nodes').click();
      await page.getByRole('button', { name: 'Register node' }).focus();
      await page.keyboard.press('Enter');
      const dlg = page.locator('dialog#node-form');
      await dlg.waitFor();
      assert.equal(await page.evaluate('document.activeElement.id'), 'nf-mac', 'focus moves into the form');
      await page.keyboard.type('52:54:00:aa:00:09');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate('document.activeElement.id'), 'nf-fqdn');
      await page.keyboard.press('Escape');
      await dlg.waitFor({ state: 'detached' });
      assert.equal(await page.evaluate('document.activeElement.id'), 'add-node', 'focus returns to the opener');
    });

    await t.test('register a node: an invalid IP is shown beside the field and nothing typed is lost', async () => {
      await nav(page, 'Nodes').click();
      await page.getByText('No nodes registered yet.').waitFor();
      await page.getByRole('button', { name: 'Register node' }).click();
      const dlg = page.locator('dialog#node-form');
      await dlg.getByLabel('MAC address').fill('52-54-00-AA-00-01');
      await dlg.getByLabel('FQDN').fill('node01.lab.example');
      await dlg.getByLabel('IPv4 address').fill('10.0.0.300');
      await dlg.getByLabel('Extra kernel arguments').fill('console=ttyS0,115200');
      await dlg.getByRole('button', { name: 'Register' }).click();
      const err = dlg.locator('#nf-ipv4-err');
      await err.waitFor();
      assert.match(await err.innerText(), /IPv4/);
      const ip = dlg.getByLabel('IPv4 address');
      assert.equal(await ip.getAttribute('aria-invalid'), 'true');
      assert.match((await ip.getAttribute('aria-describedby')) ?? '', /nf-ipv4-err/);
      assert.equal(await dlg.getByLabel('FQDN').inputValue(), 'node01.lab.example');
      assert.equal(await dlg.getByLabel('Extra kernel arguments').inputValue(), 'console=ttyS0,115200');
      await shot(page, 'node-form-error', { keepFocus: true });
      await ip.fill('10.0.0.21');
      await dlg.getByRole('button', { name: 'Register' }).click();
      await row(page, '52:54:00:aa:00:01').waitFor();
      assert.equal(await dlg.count(), 0, 'the dialog closes after a save');
      assert.match(await row(page, '52:54:00:aa:00:01').innerText(), /node01\.lab\.example[\s\S]*10\.0\.0\.21[\s\S]*never booted/);
    });

    await t.test('a conflict (IP already used) is shown beside the IP field', async () => {
      await page.getByRole('button', { name: 'Register node' }).click();
      const dlg = page.locator('dialog#node-form');
      await dlg.getByLabel('MAC address').fill('52:54:00:aa:00:02');
      await dlg.getByLabel('FQDN').fill('node02.lab.example');
      await dlg.getByLabel('IPv4 address').fill('10.0.0.21');
      await dlg.getByRole('button', { name: 'Register' }).click();
      await dlg.locator('#nf-ipv4-err').waitFor();
      assert.match(await dlg.locator('#nf-ipv4-err').innerText(), /already used by node node01/);
      await dlg.getByLabel('IPv4 address').fill('10.0.0.22');
      await dlg.getByRole('button', { name: 'Register' }).click();
      await row(page, '52:54:00:aa:00:02').waitFor();
    });

    await t.test('edit and disable a node', async () => {
      await page.getByRole('button', { name: 'Edit node01.lab.example' }).click();
      const dlg = page.locator('dialog#node-form');
      assert.equal(await dlg.getByLabel('MAC address').inputValue(), '52:54:00:aa:00:01');
      await dlg.getByLabel('IPv4 address').fill('10.0.0.31');
      await dlg.getByLabel('Boot mode').selectOption('pxelinux');
      await dlg.getByRole('button', { name: 'Save' }).click();
      await page.locator('tr[data-mac="52:54:00:aa:00:01"] td', { hasText: '10.0.0.31' }).waitFor();
      await page.getByRole('button', { name: 'Disable node01.lab.example' }).click();
      await page.locator('tr[data-mac="52:54:00:aa:00:01"] .badge.off').waitFor();
      const n = await nr.api('GET', '/nodes/node01.lab.example');
      assert.deepEqual([n.body.ipv4, n.body.bootMode, n.body.enabled], ['10.0.0.31', 'pxelinux', false]);
    });

    await t.test('bulk import previews new rows and conflicts, then sends only the new ones', async () => {
      await page.getByRole('button', { name: 'Import…' }).click();
      const dlg = page.locator('dialog#import');
      const csv = [
        'mac,fqdn,ip,image,enabled',
        '52:54:00:aa:00:03,node03.lab.example,10.0.0.23,,yes',
        '52:54:00:aa:00:01,node01.lab.example,10.0.0.99,,', // existing MAC, different IP
        '52:54:00:aa:00:02,node02.lab.example,10.0.0.22,,', // identical to an existing node
        '"52:54:00:aa:00:04",node03.lab.example,10.0.0.24,,', // FQDN repeated in the list
      ].join('\n');
      await dlg.getByLabel('Nodes as CSV').fill(csv);
      await dlg.getByRole('button', { name: 'Preview' }).click();
      await dlg.locator('#imp-summary', { hasText: '1 new' }).waitFor();
      assert.equal(await dlg.locator('#imp-summary').innerText(), '1 new, 1 already registered (unchanged), 2 conflicts (skipped).');
      assert.match(await dlg.locator('tr.imp-conflict').first().innerText(), /would change ipv4 10\.0\.0\.31 → 10\.0\.0\.99/);
      assert.equal((await nr.api('GET', '/nodes')).body.total, 2, 'a preview changes nothing');
      await shot(page, 'import-preview');
      await dlg.getByRole('button', { name: 'Import 1 new node' }).click();
      await row(page, '52:54:00:aa:00:03').waitFor();
      assert.equal((await nr.api('GET', '/nodes')).body.total, 3);
    });

    await t.test('a failed import names the row and keeps the pasted text', async () => {
      await page.getByRole('button', { name: 'Import…' }).click();
      const dlg = page.locator('dialog#import');
      const json = JSON.stringify([{ mac: '52:54:00:aa:00:05', fqdn: 'node05.lab.example', ipv4: '10.0.0.25' }, { mac: '52:54:00:aa:00:06', fqdn: 'bad_name', ipv4: '10.0.0.26' }]);
      await dlg.getByLabel('Nodes as CSV').fill(json);
      await dlg.getByRole('button', { name: 'Preview' }).click();
      await dlg.getByRole('button', { name: 'Import 2 new nodes' }).click();
      await dlg.locator('#imp-err', { hasText: 'Row 2' }).waitFor();
      assert.match(await dlg.locator('#imp-err').innerText(), /Row 2: fqdn/);
      assert.equal(await dlg.getByLabel('Nodes as CSV').inputValue(), json);
      assert.equal((await nr.api('GET', '/nodes')).body.total, 3, 'all or nothing');
      await dlg.getByRole('button', { name: 'Cancel' }).click();
    });

    await t.test('sort by MAC descending and filter by text', async () => {
      await page.getByRole('button', { name: 'MAC' }).click();
      await page.locator('th[aria-sort="ascending"]', { hasText: 'MAC' }).waitFor();
      await page.getByRole('button', { name: 'MAC' }).click();
      await page.locator('th[aria-sort="descending"]', { hasText: 'MAC' }).waitFor();
      await page.waitForFunction(`() => document.querySelector('tbody tr')?.getAttribute('data-mac') === '52:54:00:aa:00:03'`);
      assert.match(page.url(), /sort=mac&order=desc/);
      await page.getByLabel('Search').fill('node02');
      await page.locator('#nodes-count', { hasText: '1 node match' }).waitFor();
      assert.equal(await page.locator('tbody tr').count(), 1);
      await page.getByLabel('Search').fill('');
      await page.locator('#nodes-count', { hasText: '3 nodes' }).waitFor();
      await shot(page, 'nodes');
    });

    await t.test('delete says the state directory is archived', async () => {
      await page.getByRole('button', { name: 'Delete node02.lab.example' }).click();
      const dlg = page.locator('dialog#confirm');
      assert.match(await dlg.innerText(), /state\/node02\.lab\.example\/[\s\S]*archived, not deleted/);
      await shot(page, 'delete-dialog');
      await dlg.getByRole('button', { name: 'Delete node' }).click();
      await row(page, '52:54:00:aa:00:02').waitFor({ state: 'detached' });
      assert.equal((await nr.api('GET', '/nodes/node02.lab.example')).status, 404);
    });

    await t.test('images and exports pages load (not configured parts say so)', async () => {
      await nav(page, 'Images').click();
      await page.getByRole('button', { name: 'New image' }).click();
      const dlg = page.locator('dialog#image-form');
      await dlg.getByLabel('Name').fill('Debian 12');
      await dlg.getByRole('button', { name: 'Create' }).click();
      await dlg.locator('#img-name-err').waitFor();
      await dlg.getByLabel('Name').fill('debian12');
      await dlg.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { name: 'debian12' }).waitFor();
      await page.locator('section.image .notice, section.image table').first().waitFor();
      await nav(page, 'Exports').click();
      await page.locator('#exports-rendered', { hasText: 'state of node03.lab.example' }).waitFor();
      // Node changes are applied in the background: apply now, so the dry run that follows
      // compares against what the registry renders and finds nothing to change.
      await page.getByRole('button', { name: 'Apply now' }).click();
      await page.locator('#banner', { hasText: 'Export table applied' }).waitFor();
      // No NFS server runs here: the file is written and takes effect when Ganesha starts.
      await page.locator('#last-apply', { hasText: 'ganesha is not running' }).waitFor();
      assert.match(await page.locator('#last-apply').innerText(), /^ok[\s\S]*takes effect when ganesha starts/);
      await page.getByRole('button', { name: 'Dry run (show diff)' }).click();
      await page.getByText('No change: the applied table matches the registry.').waitFor();
      // The banner says "(no change)" or not, as the background apply was first or not: it hides by itself.
      await page.locator('#banner').waitFor({ state: 'hidden' });
      // A node change queued before "Apply now" is applied in the background right after (a
      // no-op): the page looks again while something is pending, and the line goes.
      await page.locator('dl.facts dt', { hasText: 'Pending' }).waitFor({ state: 'detached', timeout: 20_000 });
      await shot(page, 'exports', { fullPage: true });
    });

    await t.test('a read-only token sees everything and no change buttons', async () => {
      const tok = await nr.api('POST', '/tokens', { name: 'viewer', role: 'readonly' });
      assert.equal(tok.status, 201);
      const { context, page: ro } = await newPage(browser!, errors, { clock: CLOCK });
      const failed: string[] = [];
      ro.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.request().method()} ${r.url()}`));
      await signIn(ro, nr.url, tok.body.secret);
      await ro.locator('#who-name', { hasText: 'read-only' }).waitFor().catch(() => {});
      assert.match(await ro.locator('#who-name').innerText(), /read-only/, `failed requests: ${failed.join('; ')}`);
      await nav(ro, 'Nodes').click();
      await row(ro, '52:54:00:aa:00:01').waitFor();
      assert.equal(await ro.getByRole('button', { name: /Register|Import|Edit|Delete|Disable|Enable/ }).count(), 0);
      await ro.locator('tr[data-mac="52:54:00:aa:00:01"] a').click();
      await ro.locator('#timeline').waitFor();
      await ro.locator('.facts dd', { hasText: '52:54:00:aa:00:01' }).waitFor();
      assert.equal(await ro.getByRole('button', { name: /Edit|Delete|Disable|Enable/ }).count(), 0);
      await nav(ro, 'Images').click();
      await ro.getByRole('heading', { name: 'debian12' }).waitFor();
      assert.equal(await ro.getByRole('button', { name: /New image|Pull now|Publish|Pin/ }).count(), 0);
      await context.close();
    });

    await t.test('a lost connection shows a banner on a live view and the view reconnects', async () => {
      await page.goto(`${nr.url}/#/nodes/52:54:00:aa:00:01`);
      // The live stream opens once the node and its events are loaded (the empty timeline says
      // so): stopping the server before that would fail the load instead of the stream.
      await page.locator('#timeline li.empty').waitFor();
      const before = errors.length;
      await nr.stop();
      const banner = page.locator('#conn');
      await banner.waitFor({ state: 'visible', timeout: 20_000 });
      assert.match(await banner.innerText(), /connection to the server lost, reconnecting/);
      nr = await startNetroot({ dataDir, config, clock: CLOCK });
      await banner.waitFor({ state: 'hidden', timeout: 30_000 });
      // Stopping the server resets whatever request the page had open at that moment (a poll,
      // the event stream); the browser logs it. That is this test's doing, and only here.
      const during = errors.splice(before);
      errors.push(...during.filter((e) => !/net::ERR_CONNECTION_RESET|net::ERR_EMPTY_RESPONSE|net::ERR_CONNECTION_CLOSED/.test(e)));
    });

    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await nr.stop();
    removeDir(dataDir);
  }
});
