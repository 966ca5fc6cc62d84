/**
 * The admin's steps, through netroot's REST API only (never its database): register and pin the
 * golden host, create an image, pull a version (watching the job), publish, roll back, register
 * the VM as a node, read its timeline.
 */
import { NET } from './network.js';
import { GOLDEN_NAME, type E2eLab } from './scenario.js';

export const IMAGE = 'debian12';
/** rwtab path checked on the node: exists in the image, written at boot (dhclient leases). */
export const RWTAB_PATH = '/var/lib/dhcp';
export const STATETAB_PATH = '/var/log';

export interface TimelineEvent {
  id?: number;
  mac?: string;
  kind: string;
  detail?: Record<string, unknown>;
  at: string;
}

export async function registerGoldenHost(lab: E2eLab): Promise<void> {
  const h = await lab.api('POST', '/golden-hosts', { name: GOLDEN_NAME, address: NET.golden });
  if (!h.fingerprint) throw new Error(`POST /golden-hosts: no fingerprint in ${JSON.stringify(h)}`);
  lab.say(`golden host registered, host key ${h.fingerprint}; pinning it`);
  const pinned = await lab.api('POST', `/golden-hosts/${GOLDEN_NAME}/pin`, { fingerprint: h.fingerprint });
  if (pinned.pinned !== true) throw new Error(`pin: ${JSON.stringify(pinned)}`);
}

export async function createImage(lab: E2eLab): Promise<void> {
  await lab.api('POST', '/images', {
    name: IMAGE,
    host: GOLDEN_NAME,
    settings: {
      state: { kind: 'diskless' },
      statetab: [STATETAB_PATH],
      rwtab: [{ type: 'dirs', path: RWTAB_PATH }],
      // The serial console is where the test reads the boot and talks to the node. loglevel=6:
      // kernel notices ("Linux version") but not systemd's info lines (status lines stay).
      kernelArgs: 'console=ttyS0,115200 loglevel=6',
      drivers: ['virtio_net', 'virtio_pci', 'e1000'],
      initramfs: 'golden',
    },
  });
}

interface Job {
  id: string | number;
  state: string;
  step?: string | null;
  progress?: { percent?: number } | null;
  log?: string | string[] | null;
  result?: Record<string, unknown> | null;
  error?: unknown;
}

/** Starts a pull and follows its job to the end; returns the new version's name. */
export async function pull(lab: E2eLab, timeoutMs = 30 * 60_000): Promise<string> {
  const started = await lab.api('POST', `/images/${IMAGE}/pull`);
  const id = started?.job?.id ?? started?.id;
  if (id === undefined) throw new Error(`pull: no job id in ${JSON.stringify(started)}`);
  const t0 = Date.now();
  let last = '';
  let job: Job;
  for (;;) {
    job = await lab.api('GET', `/jobs/${id}`);
    const now = `${job.state} ${job.step ?? ''} ${job.progress?.percent !== undefined ? `${Math.floor(job.progress.percent / 10) * 10}%` : ''}`;
    if (now !== last) {
      lab.say(`  pull job ${id}: ${now} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      last = now;
    }
    if (['succeeded', 'failed', 'cancelled'].includes(job.state)) break;
    if (Date.now() - t0 > timeoutMs) throw new Error(`pull job ${id} still ${job.state} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  if (job.state !== 'succeeded') {
    const log = Array.isArray(job.log) ? job.log.join('\n') : String(job.log ?? '');
    throw new Error(`pull job ${id} ${job.state}: ${JSON.stringify(job.error)}\n${log.slice(-4000)}`);
  }
  const v = job.result?.version;
  if (typeof v === 'string') return v;
  const versions = await lab.api('GET', `/images/${IMAGE}/versions`);
  const ready = (versions.items as { version: string; state: string; createdAt: string }[]).filter((x) => x.state === 'ready');
  ready.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  if (!ready.length) throw new Error(`pull succeeded but no ready version: ${JSON.stringify(versions)}`);
  return ready[ready.length - 1]!.version;
}

export async function publish(lab: E2eLab, version: string): Promise<void> {
  const img = await lab.api('POST', `/images/${IMAGE}/publish`, { version });
  if (img.activeVersion !== version) throw new Error(`publish ${version}: active is ${img.activeVersion}`);
}

export async function rollback(lab: E2eLab, version?: string): Promise<string> {
  const img = await lab.api('POST', `/images/${IMAGE}/rollback`, version ? { version } : {});
  return img.activeVersion as string;
}

export async function registerNode(lab: E2eLab): Promise<void> {
  await lab.api('POST', '/nodes', { mac: NET.vmMac, fqdn: NET.vmFqdn, ipv4: NET.vm, image: IMAGE });
}

export async function timeline(lab: E2eLab): Promise<TimelineEvent[]> {
  const r = await lab.api('GET', `/nodes/${NET.vmMac}/events?limit=1000`);
  const items = (r.items ?? r) as TimelineEvent[];
  return [...items].sort((a, b) => a.at.localeCompare(b.at) || (a.id ?? 0) - (b.id ?? 0));
}

export function formatTimeline(events: readonly TimelineEvent[], since = 0): string {
  return events
    .map((e) => {
      const t = Date.parse(e.at);
      const rel = since ? `+${((t - since) / 1000).toFixed(1)} s` : e.at;
      return `${rel.padStart(10)}  ${e.kind.padEnd(14)} ${JSON.stringify(e.detail ?? {})}`;
    })
    .join('\n');
}

/** Waits for a `booted` event at or after `since` (ms epoch). */
export async function waitBootedEvent(lab: E2eLab, since: number, timeoutMs: number): Promise<TimelineEvent> {
  const t0 = Date.now();
  for (;;) {
    const ev = (await timeline(lab)).find((e) => e.kind === 'booted' && Date.parse(e.at) >= since - 1000);
    if (ev) return ev;
    if (Date.now() - t0 > timeoutMs) throw new Error(`no booted event for ${NET.vmMac} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
