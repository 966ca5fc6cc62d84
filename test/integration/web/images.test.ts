/**
 * Images page and the node's boot configuration in a real browser against the real service.
 * The image-version, pull/job and boot-script routes are not in the API yet: the browser's
 * requests for them are answered here with the shapes agreed for them (page.route), so the
 * page logic (versions table, publish/rollback, pull progress polled once a second, the failed
 * pull's log, pin) is exercised now; pinning goes to the real PATCH /nodes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Route } from 'playwright-core';
import { removeDir, startNetroot, type Netroot } from '../../helpers/service.js';
import { launch, nav, newPage, shot, signIn } from './browser.js';

const json = (route: Route, body: unknown, status = 200) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });

const FAILED_LOG = ['rsync -aHAX --numeric-ids --delete --link-dest=../2024-06-01 root@golden:/ root/', 'rsync: connection unexpectedly closed (0 bytes received so far) [Receiver]', 'rsync error: error in rsync protocol data stream (code 12) at io.c(231)'];

test('images page: versions, pull with live progress, failed pull log, publish, rollback, pin; node boot script', async (t) => {
  const nr: Netroot = await startNetroot();
  const errors: string[] = [];
  let browser: Browser | null = null;
  try {
    assert.equal((await nr.api('POST', '/images', { name: 'debian12' })).status, 201);
    assert.equal((await nr.api('POST', '/nodes', { mac: '52:54:00:cc:00:01', fqdn: 'canary.lab.example', ipv4: '10.0.0.50', image: 'debian12' })).status, 201);

    browser = await launch();
    const { page } = await newPage(browser, errors);
    let pulled = false;
    let jobPolls = 0;
    const posted: { path: string; body: unknown }[] = [];
    const version = (v: string, state: string, active: boolean, extra: Record<string, unknown> = {}) => ({ version: v, state, sizeBytes: state === 'ready' ? 1_234_567_890 : null, kernel: state === 'ready' ? '6.1.0-21-amd64' : null, createdAt: `${v}T10:00:00.000Z`, active, runningNodes: 0, pinnedNodes: 0, ...extra });
    await page.route('**/api/v1/images/debian12/versions', (r) =>
      json(r, {
        items: [
          ...(pulled ? [version('2024-07-15', 'ready', false)] : []),
          version('2024-07-01', 'failed', false),
          version('2024-06-15', 'ready', true, { runningNodes: 41, pinnedNodes: 0 }),
          version('2024-06-01', 'ready', false, { runningNodes: 1, pinnedNodes: 1 }),
        ],
      }),
    );
    await page.route('**/api/v1/jobs?*', (r) =>
      json(r, { items: [{ id: 'j0', kind: 'pull', target: 'image:debian12', state: 'failed', step: 'rsync', progress: null, log: FAILED_LOG, error: 'rsync exited with code 12', createdAt: '2024-07-01T10:00:00.000Z', startedAt: '2024-07-01T10:00:01.000Z', finishedAt: '2024-07-01T10:03:00.000Z' }] }),
    );
    await page.route('**/api/v1/images/debian12/pull', (r) => json(r, { job: { id: 'j1' } }, 202));
    await page.route('**/api/v1/jobs/j1', (r) => {
      jobPolls++;
      const running = jobPolls < 4;
      if (!running) pulled = true;
      return json(r, {
        id: 'j1', kind: 'pull', target: 'image:debian12', state: running ? 'running' : 'succeeded', step: running ? 'rsync' : 'publish',
        progress: running ? { percent: jobPolls * 25, bytes: jobPolls * 300_000_000, rate: 52_000_000 } : null,
        log: ['pull started'], error: null, createdAt: '2024-07-15T10:00:00.000Z', startedAt: '2024-07-15T10:00:00.000Z', finishedAt: running ? null : '2024-07-15T10:05:00.000Z',
      });
    });
    for (const verb of ['publish', 'rollback']) {
      await page.route(`**/api/v1/images/debian12/${verb}`, (r) => {
        posted.push({ path: verb, body: r.request().postDataJSON() });
        return json(r, {});
      });
    }
    await page.route('**/api/v1/nodes/*/boot', (r) =>
      json(r, {
        script: '#!ipxe\nkernel http://10.0.0.1:8080/boot/images/debian12/2024-06-15/vmlinuz initrd=initramfs.img root=nfs4:10.0.0.1:/images/debian12/2024-06-15/root ro ip=dhcp rd.neednet=1\ninitrd http://10.0.0.1:8080/boot/images/debian12/2024-06-15/initramfs.img\nboot\n',
        cmdline: 'initrd=initramfs.img root=nfs4:10.0.0.1:/images/debian12/2024-06-15/root ro ip=dhcp rd.neednet=1',
        reason: null,
      }),
    );

    await signIn(page, nr.url, nr.token);
    await nav(page, 'Images').click();

    await t.test('versions table with state, size, kernel, running/pinned nodes and the failed pull log', async () => {
      const table = page.locator('section.image table');
      await table.waitFor();
      assert.equal(await table.locator('tbody tr').count(), 3);
      assert.match(await table.locator('tr.active').innerText(), /2024-06-15[\s\S]*active[\s\S]*ready[\s\S]*1\.1 GiB[\s\S]*6\.1\.0-21-amd64[\s\S]*41/);
      const failed = page.locator('.job[data-job="j0"]');
      await failed.waitFor();
      assert.match(await failed.innerText(), /failed[\s\S]*rsync exited with code 12/);
      assert.match(await failed.locator('pre.log').innerText(), /connection unexpectedly closed/);
    });

    await t.test('pull now shows a live progress bar until the job ends, then the new version', async () => {
      await page.getByRole('button', { name: 'Pull now' }).click();
      const job = page.locator('.job[data-job="j1"]');
      await job.locator('progress').waitFor();
      await job.getByText(/50%.*MiB.*at 49\.6 MiB\/s/).waitFor();
      assert.match(await job.innerText(), /running[\s\S]*rsync/);
      assert.equal(await page.getByRole('button', { name: 'Pull now' }).isDisabled(), true, 'one pull at a time');
      await shot(page, 'images-pull', true);
      await job.locator('.badge.job-succeeded').waitFor();
      await page.locator('section.image td', { hasText: '2024-07-15' }).waitFor();
      assert.ok(jobPolls >= 4, 'the job was polled until it finished');
      assert.equal(await page.getByRole('button', { name: 'Pull now' }).isEnabled(), true);
    });

    await t.test('publish the new version, roll back to an older one', async () => {
      await page.locator('section.image tr', { hasText: '2024-07-15' }).getByRole('button', { name: 'Publish' }).click();
      await page.locator('dialog#confirm').getByRole('button', { name: 'Publish' }).click();
      await page.locator('dialog#confirm').waitFor({ state: 'detached' });
      await page.locator('section.image tr', { hasText: '2024-06-01' }).getByRole('button', { name: 'Roll back' }).click();
      await page.locator('dialog#confirm').getByRole('button', { name: 'Roll back' }).click();
      await page.locator('dialog#confirm').waitFor({ state: 'detached' });
      assert.deepEqual(posted, [{ path: 'publish', body: { version: '2024-07-15' } }, { path: 'rollback', body: { version: '2024-06-01' } }]);
      assert.equal(await page.locator('section.image tr', { hasText: '2024-07-01' }).getByRole('button', { name: /Publish|Roll back|Pin/ }).count(), 0, 'a failed version offers nothing');
    });

    await t.test('pin a node to a version (real PATCH /nodes)', async () => {
      await page.locator('section.image tr', { hasText: '2024-06-01' }).getByRole('button', { name: 'Pin…' }).click();
      const dlg = page.locator('dialog#pin-form');
      await dlg.getByLabel(/Nodes/).fill('canary.lab.example, nosuch.lab.example');
      await dlg.getByRole('button', { name: 'Pin' }).click();
      await dlg.locator('#pin-err', { hasText: 'nosuch.lab.example' }).waitFor();
      assert.equal(await dlg.getByLabel(/Nodes/).inputValue(), 'nosuch.lab.example', 'what was not pinned stays in the field');
      assert.equal((await nr.api('GET', '/nodes/canary.lab.example')).body.pinnedVersion, '2024-06-01');
      await dlg.getByRole('button', { name: 'Cancel' }).click();
    });

    await t.test('node detail shows the rendered iPXE script and kernel command line', async () => {
      await page.goto(`${nr.url}/#/nodes/canary.lab.example`);
      await page.locator('#ipxe-script', { hasText: '#!ipxe' }).waitFor();
      assert.match(await page.locator('#cmdline').innerText(), /root=nfs4:10\.0\.0\.1:\/images\/debian12\/2024-06-15\/root ro/);
      assert.match(await page.locator('.facts').innerText(), /debian12 @ 2024-06-01 \(pinned\)/);
    });

    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await nr.stop();
    removeDir(nr.dataDir);
  }
});
