/**
 * The admin UI's live views in a real browser against the service started in-process (so the
 * test can play the boot front ends: discoveries and boot events through the recorder): 10,000
 * nodes paged server-side, dashboard counts, register from discovered, a timeline that updates
 * while the node boots. Saves the screenshots of those pages into docs/screenshots/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { configSchema } from '../../../server/config/schema.js';
import { startService, type Service } from '../../../server/main.js';
import type { BootEventKind } from '../../../pxe/boot/events.js';
import { installFixedClock } from '../../helpers/clock.js';
import { removeDir } from '../../helpers/service.js';
import { launch, nav, newPage, setPageClock, shot, signIn } from './browser.js';

const N = 10_000;
const hex = (n: number) => n.toString(16).padStart(2, '0');

/** 10,000 nodes on two images: n00000.rack.example at 52:54:00:01:00:00, 10.1.0.0+i. */
function fleet() {
  return Array.from({ length: N }, (_, i) => ({
    mac: `52:54:00:01:${hex(i >> 8)}:${hex(i & 255)}`,
    fqdn: `n${String(i).padStart(5, '0')}.rack.example`,
    ipv4: `10.1.${i >> 8}.${i & 255}`,
    image: i % 10 === 0 ? 'rocky9' : 'debian12',
    bootMode: i % 7 === 0 ? 'pxelinux' : 'ipxe',
  }));
}

// The service runs in this process, so this process's Date is fixed (test/helpers/clock.ts) and
// moved by the test; the page's clock follows. Every time on the screenshots is the same on
// every run: the service starts at 07:12, the pages are looked at 10:24, the node boots at 10:31.
const STARTED = '2026-11-26T07:12:00Z';
const NOW = '2026-11-26T10:24:00Z';
const BOOT = Date.parse('2026-11-26T10:31:02Z');

test('admin UI live views: 10,000 nodes, dashboard, discovered -> register, live boot timeline', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nrweb-'));
  const clock = installFixedClock(STARTED);
  let admin = '';
  const svc: Service = await startService(configSchema.parse({ dataDir, http: { port: 0 } }), { log: pino({ level: 'silent' }), onAdminToken: (s) => (admin = s) });
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${svc.url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: (await r.json().catch(() => undefined)) as any };
  };
  const errors: string[] = [];
  let browser: Browser | null = null;
  try {
    for (const name of ['debian12', 'rocky9']) assert.equal((await api('POST', '/images', { name })).status, 201);
    const nodes = fleet();
    assert.equal(new Set(nodes.map((n) => n.ipv4)).size, N);
    const imp = await api('POST', '/nodes/import', nodes);
    assert.equal(imp.status, 201, JSON.stringify(imp.body).slice(0, 300));

    // Two unregistered machines seen this morning.
    for (const [i, arch, vc, at] of [[1, 7, 'PXEClient:Arch:00007:UNDI:003000', '2026-11-26T10:02:10Z'], [2, 0, 'PXEClient:Arch:00000:UNDI:002001', '2026-11-26T10:09:45Z']] as const) {
      clock.set(at);
      svc.recorder.discovery({ mac: `52:54:00:be:ef:0${i}`, arch, vendorClass: vc, userClass: i === 2 ? 'iPXE' : null, uuid: null, relay: null, via: 'dhcp' });
    }
    // One node half a minute into its boot.
    clock.set('2026-11-26T10:23:30Z');
    svc.recorder.sink({ mac: nodes[700]!.mac, kind: 'dhcp.offer', detail: { ip: nodes[700]!.ipv4 } });
    clock.set(NOW);
    // History: boots spread over the last day, a few stuck mid-boot an hour ago.
    // Offsets from the start of the current hour, as the per-hour chart counts.
    const now = Math.floor(Date.now() / 3600_000) * 3600_000;
    const hist: { mac: string; kind: BootEventKind; detail: Record<string, unknown>; at: number }[] = [];
    for (let i = 0; i < 600; i++) {
      const mac = nodes[i]!.mac;
      const at = now - ((i * 7919) % (23 * 3600_000));
      hist.push({ mac, kind: 'dhcp.discover', detail: {}, at: at - 40_000 }, { mac, kind: 'http.kernel', detail: { file: 'vmlinuz' }, at: at - 20_000 }, { mac, kind: 'booted', detail: {}, at });
    }
    for (let i = 600; i < 612; i++) hist.push({ mac: nodes[i]!.mac, kind: 'http.initrd', detail: { file: 'initramfs.img' }, at: now - 3600_000 });
    await svc.store.events.append(hist);
    await svc.recorder.flush();
    // The import's 10,000 state directories are made after it answers (the NFS reconciler); the
    // dashboard is pictured once they are, as an admin would see it a few seconds later.
    for (let i = 0; i < 600; i++) {
      const nfs = (await api('GET', '/health')).body.subsystems.nfs;
      if (nfs.missing === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }

    browser = await launch();
    const { page } = await newPage(browser, errors, { clock: NOW });
    await signIn(page, svc.url, admin);

    await t.test('dashboard shows counts by boot state and boots per hour', async () => {
      await page.locator('.stat', { hasText: 'booted' }).first().waitFor();
      const stats = await page.locator('.stats').first().innerText();
      assert.match(stats, /10000\s+nodes/);
      assert.match(stats, /600\s+booted/);
      assert.match(stats, /12\s+stuck/);
      assert.match(stats, /2\s+discovered/);
      assert.equal(await page.locator('.bars li').count(), 24);
      await shot(page, 'dashboard');
    });

    await t.test('10,000 nodes: one page drawn, filtered by image and text, paged on the server', async () => {
      await nav(page, 'Nodes').click();
      await page.locator('#nodes-count', { hasText: '10000 nodes' }).waitFor();
      assert.equal(await page.locator('tbody tr').count(), 50);
      await page.getByRole('button', { name: 'Next →' }).click();
      await page.locator('.pager', { hasText: '51–100 of 10000' }).waitFor();
      await page.getByLabel('Image').selectOption('rocky9');
      await page.locator('#nodes-count', { hasText: '1000 nodes match' }).waitFor();
      assert.match(page.url(), /image=rocky9/);
      await page.getByLabel('Search').fill('n0060');
      await page.locator('#nodes-count', { hasText: '1 node match' }).waitFor();
      assert.match(await page.locator('tbody').innerText(), /n00600\.rack\.example[\s\S]*stuck/);
      await page.getByLabel('Search').fill('');
      await page.getByLabel('Image').selectOption('');
      await page.locator('#nodes-count', { hasText: '10000 nodes' }).waitFor();
      await shot(page, 'nodes-10000');
    });

    const mac = '52:54:00:be:ef:01';
    await t.test('discovered: register opens the node form pre-filled with the MAC', async () => {
      await nav(page, 'Discovered').click();
      await page.locator(`tr[data-mac="${mac}"]`).waitFor();
      assert.match(await page.locator(`tr[data-mac="${mac}"]`).innerText(), /x64 UEFI \(7\)[\s\S]*PXEClient:Arch:00007/);
      // A new sighting appears without reloading the page.
      svc.recorder.discovery({ mac: '52:54:00:be:ef:03', arch: 11, vendorClass: 'PXEClient:Arch:00011:UNDI:003000', userClass: null, uuid: null, relay: '10.3.0.1', via: 'dhcp' });
      await page.locator('tr[data-mac="52:54:00:be:ef:03"]').waitFor();
      await shot(page, 'discovered');
      await page.getByRole('button', { name: `Register ${mac}` }).click();
      const dlg = page.locator('dialog#node-form');
      assert.equal(await dlg.getByLabel('MAC address').inputValue(), mac);
      assert.equal(await dlg.getByLabel('MAC address').getAttribute('readonly'), '');
      await dlg.getByLabel('FQDN').fill('n00001.rack.example');
      await dlg.getByLabel('IPv4 address').fill('10.9.0.1');
      await dlg.getByLabel('Image').fill('debian12');
      await dlg.getByRole('button', { name: 'Register' }).click();
      await dlg.locator('#nf-fqdn-err', { hasText: 'already used' }).waitFor();
      await dlg.getByLabel('FQDN').fill('new01.rack.example');
      await dlg.getByRole('button', { name: 'Register' }).click();
      await page.locator(`tr[data-mac="${mac}"]`).waitFor({ state: 'detached' });
      const n = await api('GET', '/nodes/new01.rack.example');
      assert.deepEqual([n.body.mac, n.body.ipv4, n.body.image], [mac, '10.9.0.1', 'debian12']);
    });

    await t.test('node detail: the timeline updates live while the node boots', async () => {
      // Looked at a minute after the boot began: "57 s ago" and so on, against the times below.
      await setPageClock(page, new Date(BOOT + 58_000));
      await page.goto(`${svc.url}/#/nodes/${mac}`);
      // The discovery's own DHCP discover is already on the timeline.
      await page.locator('#timeline li[data-kind="dhcp.discover"]').waitFor();
      const before = await page.locator('#timeline li').count();
      // Each step at its own time (ms after BOOT), as a UEFI machine would go through them.
      const steps: [BootEventKind, Record<string, unknown>, number][] = [
        ['dhcp.discover', { arch: 7 }, 0],
        ['dhcp.offer', { ip: '10.9.0.1' }, 210],
        ['dhcp.request', {}, 1_150],
        ['dhcp.ack', { ip: '10.9.0.1' }, 1_330],
        ['tftp.file', { file: 'ipxe.efi', bytes: 1031680 }, 2_080],
        ['http.script', { file: `${mac}.ipxe` }, 4_260],
        ['http.kernel', { file: 'vmlinuz', bytes: 7_800_000 }, 4_910],
        ['http.initrd', { file: 'initramfs.img', bytes: 38_000_000 }, 7_340],
      ];
      for (const [kind, detail, after] of steps) {
        clock.set(BOOT + after);
        svc.recorder.sink({ mac, kind, detail });
        await svc.recorder.flush();
        await page.locator(`#timeline li[data-kind="${kind}"]`).last().waitFor();
      }
      await page.waitForFunction(`() => document.querySelectorAll('#timeline li').length === ${before + steps.length}`);
      assert.match(await page.locator('.steps').innerText(), /Initramfs/);
      assert.equal(await page.locator('.steps li.done').count(), 5);
      clock.set(BOOT + 46_120);
      svc.recorder.sink({ mac, kind: 'booted', detail: {} });
      await svc.recorder.flush();
      await page.locator('#timeline li[data-kind="booted"]').waitFor();
      await page.locator('h1 .badge.st-booted').waitFor();
      assert.equal(await page.locator('.steps li.done').count(), 6);
      await page.locator('#boot-config .notice, #boot-config pre').first().waitFor();
      await shot(page, 'node-detail', { fullPage: true });
    });

    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await svc.close();
    clock.uninstall();
    removeDir(dataDir);
  }
});
