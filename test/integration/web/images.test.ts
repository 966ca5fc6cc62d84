/**
 * Golden hosts, images and a node's boot in a real browser against the real service (subprocess)
 * and a real golden host (OpenSSH sshd on 127.0.0.1 serving a fixture root; the fixture's dracut is
 * a stand-in script): add the host, pin its key by fingerprint, preflight check; create the image,
 * pull now with the live job view until ready, publish, pull again, roll back, pin a node; the node
 * boots through the public boot path (iPXE script, kernel, initramfs, booted) while its page shows
 * the timeline live; the nodes list filters and sorts by boot state; a pull fails (sshd stopped)
 * and its job log is shown.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildFixtureRoot } from '../../fixtures/golden/build-root.js';
import { freePort, portIsFree, startSshd, type TestSshd } from '../golden/sshd.js';
import { claimFixedDir } from '../../helpers/fixed-dir.js';
import { removeDir, ROOT, startNetroot, type Netroot } from '../../helpers/service.js';
import { launch, nav, newPage, setPageClock, shot, signIn } from './browser.js';

const A = '52:54:00:cc:00:01';
const B = '52:54:00:cc:00:02';
// A pull runs rsync, clean-up and the (stand-in) initramfs build: generous on a loaded machine.
const PULL_TIMEOUT = 180_000;
// What the screenshots show is the same on every run: the service and the page read a fixed
// clock that the test moves (START, then one time per pull), the golden host serves a committed
// host key on a fixed port, and its root sits at a fixed path.
const START = '2026-11-26T09:00:00Z';
const GOLDEN_PORT = 2222;
const HOST_KEY = join(ROOT, 'test/fixtures/golden/ssh_host_ed25519_key');

let tmp: string;
let fixture: string;
let sshd: TestSshd;
let nr: Netroot;
let browser: Browser | null = null;

before(async () => {
  // A fixed path: the golden host's source path is on the golden-hosts screenshot.
  const claim = claimFixedDir('netroot-web-images');
  tmp = claim.dir;
  if (!claim.fixed) console.error(`web images test: another run holds ${join(tmpdir(), 'netroot-web-images')}; this one uses ${tmp}: do not commit the screenshots of this run`);
  fixture = join(tmp, 'golden-root');
  await buildFixtureRoot(fixture);
  nr = await startNetroot({
    clock: START,
    dataDir: join(tmp, 'data'),
    config: {
      images: { dracut: join(fixture, 'usr/bin/dracut'), lsinitrd: join(fixture, 'usr/bin/lsinitrd') },
      boot: { serverAddress: '127.0.0.1' },
    },
  });
  const key = await nr.api('GET', '/ssh/key');
  assert.equal(key.status, 200);
  // The port is on the screenshots (golden host address, job logs). Taken (say, another run of
  // this test at the same time): any free one, and those pictures show that port instead.
  const port = (await portIsFree(GOLDEN_PORT)) ? GOLDEN_PORT : await freePort();
  if (port !== GOLDEN_PORT) console.error(`web images test: port ${GOLDEN_PORT} is taken, the golden host listens on ${port}: do not commit the screenshots of this run`);
  sshd = await startSshd(join(tmp, 'sshd'), key.body.publicKey, { port, hostKey: HOST_KEY });
});

after(async () => {
  await browser?.close();
  await nr?.stop();
  await sshd?.stop();
  removeDir(tmp);
});

const versionRow = (page: Page, v: string) => page.locator('section.image tbody tr', { has: page.locator('.ver', { hasText: new RegExp(`^${v}$`) }) });
const versions = async () => (await nr.api('GET', '/images/fixture/versions')).body.items as { version: string; state: string; active: boolean; pinnedBy: string[] }[];

/** Waits for a job's box to show an end state; on a timeout says where the job and the service were. */
async function jobEnds(box: ReturnType<Page['locator']>, id: number, state: 'succeeded' | 'failed') {
  try {
    await box.locator(`.badge.job-${state}`).waitFor({ timeout: PULL_TIMEOUT });
  } catch (e) {
    const job = await nr.api('GET', `/jobs/${id}`).then((r) => JSON.stringify(r.body).slice(0, 2000), (x: Error) => `service unreachable: ${x.message}`);
    throw new Error(`job ${id} did not end ${state}: ${(e as Error).message}\njob: ${job}\nservice output (tail):\n${nr.proc.output().slice(-3000)}`);
  }
}

/** Moves the service's clock and the page's together. */
async function clockAt(page: Page, at: string) {
  await nr.setClock(at);
  await setPageClock(page, at);
}

/** Clicks "Pull now"; returns the started job's id (from the 202 the page got) and its box. */
async function pullNow(page: Page) {
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/images/fixture/pull'));
  await page.getByRole('button', { name: 'Pull now' }).click();
  const res = await posted;
  assert.equal(res.status(), 202);
  const id = ((await res.json()) as { job: { id: number } }).job.id;
  const box = page.locator(`.job[data-job="${id}"]`);
  await box.waitFor();
  return { id, box };
}

test('golden host, image pulls, publish/rollback, pin, a node booting live, failed pull log: all against the real service', async (t) => {
  const errors: string[] = [];
  browser = await launch();
  const { page } = await newPage(browser, errors, { clock: START });
  await signIn(page, nr.url, nr.token);
  let v1 = '';
  let v2 = '';

  await t.test('golden hosts: add (a field error first), fingerprint shown, pin, preflight check', async () => {
    await nav(page, 'Golden hosts').click();
    await page.getByText('No golden hosts yet.').waitFor();
    const key = (await nr.api('GET', '/ssh/key')).body;
    await page.locator('#ssh-key summary').click();
    assert.equal((await page.locator('#ssh-public-key').innerText()).trim(), key.publicKey.trim());
    await page.getByRole('button', { name: 'Add golden host' }).click();
    const dlg = page.locator('dialog#golden-form');
    await dlg.getByLabel('Name').fill('golden1');
    await dlg.getByLabel('Address').fill('127.0.0.1');
    await dlg.getByLabel('SSH port').fill('twenty-two');
    await dlg.getByLabel('Source path').fill(fixture);
    await dlg.getByRole('button', { name: 'Add' }).click();
    await dlg.locator('#gh-port-err').waitFor();
    assert.equal(await dlg.getByLabel('SSH port').getAttribute('aria-invalid'), 'true');
    assert.equal(await dlg.getByLabel('Source path').inputValue(), fixture, 'nothing typed is lost');
    await dlg.getByLabel('SSH port').fill(String(sshd.port));
    await dlg.getByRole('button', { name: 'Add' }).click();
    const row = page.locator('tr[data-host="golden1"]');
    await row.waitFor();
    const fp = execFileSync('ssh-keygen', ['-lf', `${sshd.hostKeyPath}.pub`]).toString().split(' ')[1]!;
    assert.equal((await row.locator('.fp').innerText()).trim(), fp, 'the fingerprint of the real host key');
    assert.match(await row.innerText(), /not pinned/);
    assert.equal(await row.getByRole('button', { name: 'Check' }).count(), 0, 'no check before the key is pinned');
    await row.getByRole('button', { name: 'Pin key…' }).click();
    const confirm = page.locator('dialog#confirm');
    assert.match(await confirm.innerText(), new RegExp(fp.replace(/[+/]/g, '\\$&')));
    await confirm.getByRole('button', { name: 'Pin key' }).click();
    await row.locator('.badge', { hasText: /^pinned$/ }).waitFor();
    assert.equal((await nr.api('GET', '/golden-hosts/golden1')).body.pinned, true);
    await row.getByRole('button', { name: 'Check' }).click();
    const report = page.locator('#check-report section');
    await report.getByRole('heading', { name: 'Preflight of golden1' }).waitFor({ timeout: 60_000 });
    // The preflight looks at the machine sshd runs on (this one): compare with the API's report.
    const api = (await nr.api('POST', '/golden-hosts/golden1/check')).body.report;
    const text = await report.innerText();
    assert.match(text, new RegExp(`Running kernel\\s+${api.runningKernel.replace(/[.+]/g, '\\$&')}`));
    for (const p of api.problems as string[]) assert.ok(text.includes(p), `problem ${p} shown`);
    assert.match(text, api.problems.length ? new RegExp(`${api.problems.length} problems?:`) : /No problems found/);
    // netroot's key is made per data dir: fold it away for the picture.
    await page.locator('#ssh-key summary').click();
    await page.locator('#ssh-public-key').waitFor({ state: 'hidden' });
    // The free space is this machine's disk, which other work fills and empties between runs.
    await shot(page, 'golden-hosts', { fullPage: true, mask: ['.free'] });
  });

  await t.test('image with the golden host; pull now shows the live job until the version is ready', async () => {
    await nav(page, 'Images').click();
    await page.getByRole('button', { name: 'New image' }).click();
    const dlg = page.locator('dialog#image-form');
    await dlg.getByLabel('Name').fill('fixture');
    // The host list loads after the dialog opens; the field is disabled until then.
    await dlg.locator('#img-host:enabled').waitFor();
    assert.equal(await dlg.getByLabel('Golden host').inputValue(), 'golden1', 'the only host is chosen');
    await dlg.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'fixture' }).waitFor();
    await page.getByText('No versions yet').waitFor();
    assert.equal((await nr.api('GET', '/images/fixture')).body.host, 'golden1');
    await page.locator('#banner').waitFor({ state: 'hidden' });
    // Hold the golden host (sshd stopped, not killed: connections wait in its backlog) so the
    // running job is on screen whatever the machine's speed, then let the pull go on.
    process.kill(sshd.pid(), 'SIGSTOP');
    let job;
    try {
      // The version is named after the pull's start: 20261126-090500.
      await clockAt(page, '2026-11-26T09:05:00Z');
      job = await pullNow(page);
      await job.box.locator('progress').waitFor();
      // Started (its first log line is there) and held at the SSH connection: the same picture every run.
      await job.box.locator('.badge.job-running').waitFor();
      await job.box.locator('details summary', { hasText: 'Job log' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Pull now' }).isDisabled(), true, 'one pull at a time');
      await shot(page, 'images-pull', { fullPage: true });
    } finally {
      process.kill(sshd.pid(), 'SIGCONT');
    }
    await jobEnds(job.box, job.id, 'succeeded');
    const done = (await nr.api('GET', `/jobs/${job.id}`)).body;
    assert.equal(done.state, 'succeeded', done.log);
    v1 = done.result.version;
    assert.match(await job.box.innerText(), new RegExp(`Version ${v1} is ready`));
    await versionRow(page, v1).locator('.badge.ver-ready').waitFor();
    assert.match(await versionRow(page, v1).innerText(), /ready[\s\S]*6\.1\.0-netroot-test/);
    assert.match(await page.locator('.image-summary').innerText(), /no active version · 1 version, 1 ready · golden host golden1/);
    assert.equal(await page.getByRole('button', { name: 'Pull now' }).isEnabled(), true);
  });

  await t.test('publish, a second pull, publish it, roll back to the first', async () => {
    await versionRow(page, v1).getByRole('button', { name: 'Publish' }).click();
    await page.locator('dialog#confirm').getByRole('button', { name: 'Publish' }).click();
    await versionRow(page, v1).locator('.badge', { hasText: 'active' }).waitFor();
    writeFileSync(join(fixture, 'etc/motd'), 'version two\n');
    await clockAt(page, '2026-11-26T09:40:00Z');
    const job = await pullNow(page);
    await jobEnds(job.box, job.id, 'succeeded');
    v2 = (await nr.api('GET', `/jobs/${job.id}`)).body.result.version;
    assert.notEqual(v2, v1);
    await versionRow(page, v2).getByRole('button', { name: 'Publish' }).click();
    await page.locator('dialog#confirm').getByRole('button', { name: 'Publish' }).click();
    await versionRow(page, v2).locator('.badge', { hasText: 'active' }).waitFor();
    assert.equal((await nr.api('GET', '/images/fixture')).body.activeVersion, v2);
    await versionRow(page, v1).getByRole('button', { name: 'Roll back' }).click();
    await page.locator('dialog#confirm').getByRole('button', { name: 'Roll back' }).click();
    await versionRow(page, v1).locator('.badge', { hasText: 'active' }).waitFor();
    assert.equal((await nr.api('GET', '/images/fixture')).body.activeVersion, v1);
    await page.locator('.image-summary', { hasText: '2 versions, 2 ready' }).waitFor();
  });

  await t.test('pin a node to a version: what fails stays in the field, the table counts the pin', async () => {
    assert.equal((await nr.api('POST', '/nodes', { mac: A, fqdn: 'canary.lab.example', ipv4: '10.0.0.50', image: 'fixture' })).status, 201);
    assert.equal((await nr.api('POST', '/nodes', { mac: B, fqdn: 'quiet.lab.example', ipv4: '10.0.0.51', image: 'fixture' })).status, 201);
    await versionRow(page, v2).getByRole('button', { name: 'Pin…' }).click();
    const dlg = page.locator('dialog#pin-form');
    await dlg.getByLabel(/Nodes/).fill('canary.lab.example, nosuch.lab.example');
    await dlg.getByRole('button', { name: 'Pin' }).click();
    await dlg.locator('#pin-err', { hasText: 'nosuch.lab.example' }).waitFor();
    assert.equal(await dlg.getByLabel(/Nodes/).inputValue(), 'nosuch.lab.example', 'what was not pinned stays in the field');
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await nr.api('GET', '/nodes/canary.lab.example')).body.pinnedVersion, v2);
    assert.deepEqual((await versions()).find((v) => v.version === v2)?.pinnedBy, ['canary.lab.example']);
    // Away and back, each page waited for: right after a click the previous page may still be
    // the one shown (the hash changes first, the page is drawn after).
    await nav(page, 'Dashboard').click();
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await nav(page, 'Images').click();
    const cells = versionRow(page, v2).locator('td.num');
    await versionRow(page, v2).locator('td.num a').waitFor();
    assert.deepEqual((await cells.allInnerTexts()).slice(1), ['0', '1', '1'], 'running 0 (none has booted it yet), boots next 1 (the pinned canary), pinned 1');
    assert.equal(await versionRow(page, v2).locator('td.num a').getAttribute('title'), 'canary.lab.example');
  });

  await t.test('a node boots through the public boot path while its page shows the timeline live', async () => {
    await page.goto(`${nr.url}/#/nodes/${A}`);
    await page.locator('#boot-image', { hasText: v2 }).waitFor();
    assert.match(await page.locator('#boot-image').innerText(), /Boots fixture version \S+ \(pinned\)/);
    assert.match(await page.locator('#cmdline').innerText(), new RegExp(`root=nfs:127\\.0\\.0\\.1:\\S+/images/fixture/${v2}/root ro`));
    await page.locator('#timeline li.empty').waitFor();
    // What iPXE does: the script, then the kernel and initramfs it names, then the image's
    // unit reports booted (no token on the /boot routes).
    const script = await fetch(`${nr.url}/boot/${A}.ipxe`);
    assert.equal(script.status, 200);
    const text = await script.text();
    assert.match(text, /^#!ipxe/);
    await page.locator('#timeline li[data-kind="http.script"]').waitFor();
    const urls = [...text.matchAll(/^(?:kernel|initrd)\s+(\S+)/gm)].map((m) => m[1]!);
    assert.equal(urls.length, 2, text);
    for (const [u, kind] of [[urls[0]!, 'http.kernel'], [urls[1]!, 'http.initrd']] as const) {
      const r = await fetch(u);
      assert.equal(r.status, 200, u);
      assert.ok((await r.arrayBuffer()).byteLength > 0);
      await page.locator(`#timeline li[data-kind="${kind}"]`).waitFor();
    }
    await page.locator('h1 .badge.st-booting').waitFor();
    assert.equal(await page.locator('.steps li.done').count(), 3, 'iPXE script, kernel, initramfs');
    // The report comes from this test, not from the node's address: it carries the token the
    // boot left in the node's state directory, as the image's unit does then.
    const token = readFileSync(join(nr.dataDir, 'state', 'canary.lab.example', '.netroot-boot-token'), 'utf8').trim();
    const version = / netroot\.version=(\S+) /.exec(text)![1]!;
    const booted = await fetch(`${nr.url}/boot/${A}/booted?image=fixture&version=${version}`, { method: 'POST', headers: { 'x-netroot-boot-token': token } });
    assert.equal(booted.status, 204);
    await page.locator('#timeline li[data-kind="booted"]').waitFor();
    await page.locator('h1 .badge.st-booted').waitFor();
    assert.equal(await page.locator('.steps li.done').count(), 4);
    assert.equal((await nr.api('GET', `/nodes/${A}`)).body.bootState, 'booted');
  });

  await t.test('nodes list: state filter and last-step sort use the real boot states', async () => {
    await nav(page, 'Nodes').click();
    await page.locator('#nodes-count', { hasText: '2 nodes' }).waitFor();
    await page.getByLabel('State').selectOption('booted');
    await page.locator('#nodes-count', { hasText: '1 node match' }).waitFor();
    assert.match(page.url(), /state=booted/);
    assert.match(await page.locator('tbody').innerText(), /canary\.lab\.example[\s\S]*booted/);
    await page.getByLabel('State').selectOption('never');
    await page.locator('tbody tr[data-mac="52:54:00:cc:00:02"]').waitFor();
    assert.equal(await page.locator('tbody tr').count(), 1);
    await page.getByLabel('State').selectOption('');
    await page.locator('#nodes-count', { hasText: '2 nodes' }).waitFor();
    await page.getByRole('button', { name: 'Last boot step' }).click();
    await page.locator('th[aria-sort="ascending"]', { hasText: 'Last boot step' }).waitFor();
    await page.waitForFunction(`() => document.querySelector('tbody tr')?.getAttribute('data-mac') === '${B}'`);
    await page.getByRole('button', { name: 'Last boot step' }).click();
    await page.waitForFunction(`() => document.querySelector('tbody tr')?.getAttribute('data-mac') === '${A}'`);
    assert.match(page.url(), /sort=lastEventAt&order=desc/);
  });

  await t.test('a failed pull (golden host down) shows its job log; the active version keeps serving', async () => {
    await sshd.stop();
    await nav(page, 'Images').click();
    await clockAt(page, '2026-11-26T10:15:00Z');
    // Forced, so the pull goes straight to the golden host. An unforced one first compares with
    // rsync, and the log line saying that failed carries rsync's exit code for a refused
    // connection: 12 or 255, whichever of two checks inside rsync wins a race.
    await page.getByLabel('rebuild if unchanged').check();
    const job = await pullNow(page);
    await jobEnds(job.box, job.id, 'failed');
    const api = (await nr.api('GET', `/jobs/${job.id}`)).body;
    assert.equal(api.state, 'failed');
    assert.ok(typeof api.log === 'string' && api.log.length > 0, 'the job has a log');
    assert.equal((await job.box.locator('.form-error').innerText()).trim(), api.error);
    const shown = await job.box.locator('pre.log').innerText();
    assert.deepEqual(shown.split('\n').filter(Boolean), api.log.split('\n').filter((l: string) => l.trim() !== ''));
    assert.equal(await job.box.locator('details').getAttribute('open'), '', 'a failed job opens its log');
    assert.equal((await nr.api('GET', '/images/fixture')).body.activeVersion, v1);
    // Coming back to the page shows the last failed pull again (from GET /jobs).
    await nav(page, 'Dashboard').click();
    await nav(page, 'Images').click();
    await page.locator(`.job[data-job="${job.id}"] .badge.job-failed`).waitFor();
    await versionRow(page, v1).waitFor();
    await shot(page, 'images', { fullPage: true });
  });

  assert.deepEqual(errors, []);
});
