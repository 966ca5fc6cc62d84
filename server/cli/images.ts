/** CLI: golden hosts, images, versions and jobs (adapters over the REST API). */
import type { ApiClient } from './client.js';
import { block, table } from './format.js';

export interface ImageCliIo {
  api: ApiClient;
  json: boolean;
  out: (s: string) => void;
  /** Progress lines (a terminal gets them redrawn in place). */
  progress: (s: string) => void;
}

interface Job {
  id: number;
  state: string;
  step: string | null;
  progress: { percent: number | null; bytes: number | null; rate: number | null } | null;
  log: string;
  result: Record<string, unknown> | null;
  error: string | null;
}

const mib = (n: number | null | undefined) => (n == null ? '?' : `${(n / 1048576).toFixed(1)} MiB`);

export function progressBar(j: Job, width = 30): string {
  const pct = j.progress?.percent ?? (j.state === 'succeeded' ? 100 : 0);
  const filled = Math.round((Math.max(0, Math.min(100, pct)) / 100) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}% ${(j.step ?? j.state).padEnd(9)} ${mib(j.progress?.bytes)} ${j.progress?.rate ? `${mib(j.progress.rate)}/s` : ''}`.trimEnd();
}

/** Polls a job until it ends, drawing its progress; returns it. */
export async function followJob(io: ImageCliIo, id: number, everyMs = 1000): Promise<Job> {
  let shown = 0;
  for (;;) {
    const j = await io.api.call<Job>('GET', `/jobs/${id}`);
    if (!io.json) {
      io.progress(progressBar(j));
      // New log lines below the bar.
      const lines = j.log.split('\n').filter(Boolean);
      for (const l of lines.slice(shown)) io.progress(`\n  ${l}`);
      shown = lines.length;
    }
    if (!['queued', 'running'].includes(j.state)) {
      if (!io.json) io.progress('\n');
      return j;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function goldenCommand(io: ImageCliIo, sub: string | undefined, name: string | undefined, v: Record<string, unknown>): Promise<number> {
  const { api, out } = io;
  const show = (data: unknown, human: () => string) => out(io.json ? JSON.stringify(data, null, 2) + '\n' : human());
  const need = () => {
    if (!name) throw new Error(`golden ${sub} needs a host name`);
    return encodeURIComponent(name);
  };
  switch (sub) {
    case 'list': {
      const r = await api.call<{ items: Record<string, unknown>[] }>('GET', '/golden-hosts');
      show(r, () => table(r.items, ['name', 'address', 'port', 'user', 'sourcePath', 'pinned', 'fingerprint']));
      return 0;
    }
    case 'add': {
      const body: Record<string, unknown> = { name, address: v.address };
      if (v.port !== undefined) body.port = Number(v.port);
      if (v.user !== undefined) body.user = v.user;
      if (v.source !== undefined) body.sourcePath = v.source;
      const h = await api.call<Record<string, unknown>>('POST', '/golden-hosts', body);
      show(h, () => `registered golden host ${String(h.name)}; its host key fingerprint is\n  ${String(h.fingerprint)}\ncheck it on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then:\n  netroot golden pin ${String(h.name)} --fingerprint ${String(h.fingerprint)}\n`);
      return 0;
    }
    case 'pin': {
      const h = await api.call<Record<string, unknown>>('POST', `/golden-hosts/${need()}/pin`, { fingerprint: v.fingerprint });
      show(h, () => `pinned ${String(h.fingerprint)} for ${String(h.name)}\n`);
      return 0;
    }
    case 'rekey': {
      const h = await api.call<Record<string, unknown>>('POST', `/golden-hosts/${need()}/rekey`);
      show(h, () => `fetched the new host key of ${String(h.name)}: ${String(h.fingerprint)}; pin it to allow pulls again\n`);
      return 0;
    }
    case 'rm': {
      const h = await api.call<Record<string, unknown>>('DELETE', `/golden-hosts/${need()}`);
      show(h, () => `forgot golden host ${String(h.name)}\n`);
      return 0;
    }
    case 'check': {
      const r = await api.call<{ report: Record<string, unknown> & { problems: string[]; warnings?: string[]; packages: { name: string; present: boolean }[] } }>('POST', `/golden-hosts/${need()}/check`);
      const rep = r.report;
      show(r, () =>
        block({
          host: rep.host,
          runningKernel: rep.runningKernel,
          bootableKernels: (rep.kernels as { bootable: string[] }).bootable.join(' ') || '-',
          packages: rep.packages.map((p) => `${p.name}${p.present ? '' : ' (MISSING)'}`).join(', '),
          autofsRunning: rep.autofsRunning,
          networkDrivers: (rep.networkDrivers as { iface: string; driver: string }[]).map((d) => `${d.iface}=${d.driver}`).join(' ') || '-',
          freeBytes: mib(rep.freeBytes as number | null),
          dracutVersion: rep.dracutVersion,
          initramfsNetwork: rep.initramfsNetwork ?? '-',
          selinux: (rep.selinux as { config: string | null } | undefined)?.config ?? '-',
        }) + (rep.problems.length ? `problems:\n${rep.problems.map((p) => `  - ${p}`).join('\n')}\n` : 'no problems found\n')
          + (rep.warnings?.length ? `warnings:\n${rep.warnings.map((w) => `  - ${w}`).join('\n')}\n` : ''),
      );
      return rep.problems.length ? 1 : 0;
    }
    case 'prepare': {
      const r = await api.call<{ plan: { confPath: string; content: string; changes: string[] }; applied: boolean }>('POST', `/golden-hosts/${need()}/prepare`, { apply: !!v.apply });
      show(r, () =>
        r.plan.changes.length === 0
          ? 'the golden host is prepared already; nothing to change\n'
          : `${r.applied ? 'changed' : 'would change (run again with --apply)'}:\n${r.plan.changes.map((c) => `  - ${c}`).join('\n')}\n--- ${r.plan.confPath}\n${r.plan.content}`,
      );
      return 0;
    }
    default:
      throw new Error(`unknown command: golden ${sub ?? ''}`);
  }
}

export async function imageCommand(io: ImageCliIo, sub: string | undefined, name: string | undefined, rest: string[], v: Record<string, unknown>): Promise<number> {
  const { api, out } = io;
  const show = (data: unknown, human: () => string) => out(io.json ? JSON.stringify(data, null, 2) + '\n' : human());
  const need = () => {
    if (!name) throw new Error(`image ${sub} needs an image name`);
    return encodeURIComponent(name);
  };
  switch (sub) {
    case 'list': {
      const r = await api.call<{ items: Record<string, unknown>[] }>('GET', '/images');
      show(r, () => table(r.items, ['name', 'host', 'activeVersion', 'readyVersions', 'versions']));
      return 0;
    }
    case 'create': {
      const body: Record<string, unknown> = { name, host: v.host ?? null };
      if (typeof v.settings === 'string') body.settings = JSON.parse(v.settings);
      const i = await api.call<Record<string, unknown>>('POST', '/images', body);
      show(i, () => `created image ${String(i.name)} from ${String(i.host ?? '(no golden host)')}\n`);
      return 0;
    }
    case 'show': {
      const i = await api.call<Record<string, unknown> & { versions: Record<string, unknown>[] }>('GET', `/images/${need()}`);
      show(i, () => block({ name: i.name, host: i.host, activeVersion: i.activeVersion, settings: i.settings }) + table(i.versions, ['version', 'state', 'active', 'kernel', 'sizeBytes', 'runningNodes', 'bootsNext', 'pinnedNodes', 'createdAt']));
      return 0;
    }
    case 'versions': {
      const r = await api.call<{ items: Record<string, unknown>[] }>('GET', `/images/${need()}/versions`);
      show(r, () => table(r.items, ['version', 'state', 'active', 'kernel', 'sizeBytes', 'runningNodes', 'bootsNext', 'pinnedNodes', 'createdAt']));
      return 0;
    }
    case 'pull': {
      const r = await api.call<{ job: { id: number } }>('POST', `/images/${need()}/pull`, v.force ? { force: true } : undefined);
      if (!v.wait) {
        show(r, () => `pull started as job ${r.job.id}; follow it with: netroot job show ${r.job.id}\n`);
        return 0;
      }
      const j = await followJob(io, r.job.id);
      const human = () => {
        if (j.state !== 'succeeded') return `pull ${j.state}: ${j.error ?? ''}\n`;
        if (j.result?.unchanged === true) return `nothing changed on the golden host since version ${String(j.result.version)}: no new version (pull with --force to build one)\n`;
        return `version ${String(j.result?.version)} is ready; publish it with: netroot image publish ${name} ${String(j.result?.version)}\n`;
      };
      show(j, human);
      return j.state === 'succeeded' ? 0 : 1;
    }
    case 'publish': {
      const version = rest[0];
      if (!version) throw new Error('image publish needs an image and a version');
      const i = await api.call<Record<string, unknown>>('POST', `/images/${need()}/publish`, { version });
      show(i, () => `${String(i.name)} now boots ${String(i.activeVersion)}\n`);
      return 0;
    }
    case 'rollback': {
      const i = await api.call<Record<string, unknown>>('POST', `/images/${need()}/rollback`, rest[0] ? { version: rest[0] } : {});
      show(i, () => `${String(i.name)} rolled back to ${String(i.activeVersion)}\n`);
      return 0;
    }
    case 'rm-version': {
      if (!rest[0]) throw new Error('image rm-version needs an image and a version');
      await api.call('DELETE', `/images/${need()}/versions/${encodeURIComponent(rest[0])}`);
      show({ removed: rest[0] }, () => `removed ${name}/${rest[0]}\n`);
      return 0;
    }
    default:
      throw new Error(`unknown command: image ${sub ?? ''}`);
  }
}

export async function jobCommand(io: ImageCliIo, sub: string | undefined, id: string | undefined, v: Record<string, unknown>): Promise<number> {
  const { api, out } = io;
  const show = (data: unknown, human: () => string) => out(io.json ? JSON.stringify(data, null, 2) + '\n' : human());
  switch (sub) {
    case 'list': {
      const q = typeof v.image === 'string' ? `?target=${encodeURIComponent(`image:${v.image}`)}` : '';
      const r = await api.call<{ items: Job[] }>('GET', `/jobs${q}`);
      show(r, () => table(r.items as unknown as Record<string, unknown>[], ['id', 'kind', 'target', 'state', 'step', 'createdBy', 'createdAt', 'error']));
      return 0;
    }
    case 'show': {
      if (!id) throw new Error('job show needs a job id');
      if (v.wait) {
        const j = await followJob(io, Number(id));
        return j.state === 'succeeded' ? 0 : 1;
      }
      const j = await api.call<Job & Record<string, unknown>>('GET', `/jobs/${encodeURIComponent(id)}`);
      show(j, () => block({ id: j.id, kind: j.kind, target: j.target, state: j.state, step: j.step, progress: progressBar(j), error: j.error, result: j.result }) + `log:\n${j.log}`);
      return 0;
    }
    case 'cancel': {
      if (!id) throw new Error('job cancel needs a job id');
      await api.call('POST', `/jobs/${encodeURIComponent(id)}/cancel`);
      show({ cancelling: Number(id) }, () => `cancelling job ${id}\n`);
      return 0;
    }
    default:
      throw new Error(`unknown command: job ${sub ?? ''}`);
  }
}
