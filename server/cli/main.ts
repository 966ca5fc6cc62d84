/**
 * `netroot` command line. `serve` runs the service; everything else is an adapter over the REST
 * API (URL and token from flags or NETROOT_URL / NETROOT_TOKEN), except `token create --local`,
 * which writes to the store directly for bootstrap and recovery on the server itself.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiClient, ApiError } from './client.js';
import { block, parseCsv, table } from './format.js';
import { csvRowToNode } from '../registry/import.js';
import { serve } from './serve.js';
import { backupCommand, localTokenCreate } from './local.js';
import { install } from '../install/install.js';
import { goldenCommand, imageCommand, jobCommand } from './images.js';
import { exportsCommand } from './exports.js';
import { fileURLToPath } from 'node:url';

/** bin/netroot.js of this installation (the unit's ExecStart). */
const BIN_PATH = fileURLToPath(new URL('../../../bin/netroot.js', import.meta.url));

const HELP = `netroot: PXE/NFS boot server for stateless, read-only Linux nodes

usage: netroot <command> [options]

  install [--root DIR] [--dry-run] [--nfs kernel|ganesha] [--no-packages]
                                        packages, config, data dir, systemd unit, NFS include
  serve [--config FILE]                 run the service (SIGHUP reloads the config)
  status                                health of each subsystem
  reload                                re-read the config file and apply it
  backup FILE [--config FILE]           online copy of the database, config and SSH identity
  restore FILE [--config FILE]          bring a backup back (service stopped)
  audit [--limit N]                     who changed what, newest first
  security events [--limit N]           refused requests from the node network, newest first
  node list [--image I] [--search S] [--enabled true|false] [--limit N]
  node show <mac|fqdn>
  node add --mac M --fqdn F --ip A [--image I] [--pin V] [--args "..."]
           [--boot-mode ipxe|pxelinux] [--state-mode nfs|local] [--disabled]
  node set <mac|fqdn> [same options as add, plus --enabled]
  node rm <mac|fqdn>
  node import <file.json|file.csv|->    all or nothing
  node events <mac|fqdn> [--limit N]
  discovered list
  exports [show]                        export table, last apply, what each node lacks
  exports apply [--dry-run]             apply the export table now (or show the diff)
  exports reconcile                     create missing state dirs, apply, report what is left
  ssh key                               netroot's public key, to authorise on golden hosts
  golden list | add NAME --address A [--port P] [--user U] [--source PATH]
  golden pin NAME --fingerprint SHA256:... | rekey NAME | rm NAME
  golden check NAME                     preflight: kernels, packages, autofs, drivers, space
  golden prepare NAME [--apply]         dracut config for network roots (shown first)
  image list | show NAME | versions NAME
  image create NAME --host GOLDEN [--settings JSON]
  image pull NAME [--wait] [--force]    new version from the golden host (progress bar); an
                                        unchanged host gives none unless --force
  image publish NAME VERSION | rollback NAME [VERSION] | rm-version NAME VERSION
  job list [--image NAME] | show ID [--wait] | cancel ID
  token list
  token create <name> [--read-only] [--local [--config FILE]]
  token revoke <id|name>

common options:
  --url URL      netroot's HTTP address (env NETROOT_URL, default http://127.0.0.1:8080)
  --token TOKEN  API token (env NETROOT_TOKEN)
  --json         machine-readable output
`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  mac: { type: 'string' },
  fqdn: { type: 'string' },
  ip: { type: 'string' },
  image: { type: 'string' },
  pin: { type: 'string' },
  args: { type: 'string' },
  'boot-mode': { type: 'string' },
  'state-mode': { type: 'string' },
  disabled: { type: 'boolean' },
  enabled: { type: 'string' },
  search: { type: 'string' },
  limit: { type: 'string' },
  'read-only': { type: 'boolean' },
  local: { type: 'boolean' },
  root: { type: 'string' },
  'dry-run': { type: 'boolean' },
  nfs: { type: 'string' },
  'no-packages': { type: 'boolean' },
  address: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string' },
  source: { type: 'string' },
  fingerprint: { type: 'string' },
  apply: { type: 'boolean' },
  host: { type: 'string' },
  settings: { type: 'string' },
  wait: { type: 'boolean' },
  force: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  stdin: () => Promise<string>;
}

/** All of standard input (read as a stream: a sync read of a pipe can fail with EAGAIN). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const NODE_COLUMNS = ['fqdn', 'mac', 'ipv4', 'image', 'bootMode', 'enabled', 'lastEvent'];

function nodeFields(v: Values): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (v.mac !== undefined) b.mac = v.mac;
  if (v.fqdn !== undefined) b.fqdn = v.fqdn;
  if (v.ip !== undefined) b.ipv4 = v.ip;
  if (v.image !== undefined) b.image = v.image === '' ? null : v.image;
  if (v.pin !== undefined) b.pinnedVersion = v.pin === '' ? null : v.pin;
  if (v.args !== undefined) b.kernelArgs = v.args;
  if (v['boot-mode'] !== undefined) b.bootMode = v['boot-mode'];
  if (v['state-mode'] !== undefined) b.stateMode = v['state-mode'];
  if (v.disabled) b.enabled = false;
  if (v.enabled !== undefined) b.enabled = v.enabled === 'true' ? true : v.enabled === 'false' ? false : v.enabled;
  return b;
}

const flat = (n: Record<string, unknown>) => ({ ...n, lastEvent: (n.lastEvent as { kind: string } | null)?.kind ?? null });

export async function main(argv: string[], env: NodeJS.ProcessEnv = {}, io?: Partial<Io>): Promise<number> {
  const out = io?.out ?? ((s: string) => void process.stdout.write(s));
  const err = io?.err ?? ((s: string) => void process.stderr.write(s));
  const stdin = io?.stdin ?? readStdin;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    err(`netroot: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values: v, positionals: pos } = parsed;
  const [cmd, sub, arg] = pos;
  if (v.help || !cmd) {
    out(HELP);
    return cmd || v.help ? 0 : 2;
  }
  if (cmd === 'serve') return serve({ configPath: v.config, env, out, err });
  if (cmd === 'install') {
    const nfs = v.nfs ?? 'kernel';
    if (nfs !== 'kernel' && nfs !== 'ganesha') return usage(err, '--nfs must be kernel or ganesha');
    try {
      const lines = await install({ root: v.root ?? '/', dryRun: !!v['dry-run'], nfs, packages: !v['no-packages'], node: process.execPath, bin: BIN_PATH });
      out(lines.join('\n') + '\n');
      return 0;
    } catch (e) {
      err(`netroot: ${(e as Error).message}\n`);
      return 1;
    }
  }
  if (cmd === 'backup' || cmd === 'restore') {
    if (!sub) return usage(err, `${cmd} needs a file`);
    return backupCommand(cmd, sub, { configPath: v.config, env, out, err, json: !!v.json });
  }
  if (cmd === 'token' && sub === 'create' && v.local) {
    if (!arg) return usage(err, 'token create needs a name');
    return localTokenCreate({ name: arg, role: v['read-only'] ? 'readonly' : 'admin', configPath: v.config, env, out, err, json: !!v.json });
  }

  const api = new ApiClient(v.url ?? env.NETROOT_URL ?? 'http://127.0.0.1:8080', v.token ?? env.NETROOT_TOKEN);
  const show = (data: unknown, human: () => string) => out(v.json ? JSON.stringify(data, null, 2) + '\n' : human());
  const key = (k: string | undefined) => {
    if (!k) throw new UsageError(`${cmd} ${sub} needs a MAC or FQDN`);
    return encodeURIComponent(k);
  };
  try {
    if (cmd === 'golden' || cmd === 'image' || cmd === 'job' || (cmd === 'ssh' && sub === 'key')) {
      const io = { api, json: !!v.json, out, progress: (s: string) => err(s) };
      if (cmd === 'golden') return await goldenCommand(io, sub, arg, v);
      if (cmd === 'image') return await imageCommand(io, sub, arg, pos.slice(3), v);
      if (cmd === 'job') return await jobCommand(io, sub, arg, v);
      const k = await api.call<{ publicKey: string; fingerprint: string }>('GET', '/ssh/key');
      show(k, () => `${k.publicKey}\n`);
      return 0;
    }
    if (cmd === 'exports') {
      if (sub !== undefined && !['show', 'apply', 'reconcile'].includes(sub)) throw new UsageError(`unknown command: exports ${sub}`);
      return await exportsCommand({ api, json: !!v.json, out }, sub, v);
    }
    switch (`${cmd} ${sub ?? ''}`.trim()) {
      case 'status': {
        const h = await api.call<{ status: string; version: string; uptimeSec: number; subsystems: Record<string, { status: string; detail?: string }> }>('GET', '/health');
        show(h, () => `netroot ${h.version}: ${h.status} (up ${h.uptimeSec}s)\n` + table(Object.entries(h.subsystems).map(([name, s]) => ({ name, ...s })), ['name', 'status', 'detail']));
        return h.status === 'ok' ? 0 : 1;
      }
      case 'reload': {
        const r = await api.call<{ applied: string[]; restartNeeded: string[] }>('POST', '/reload');
        show(r, () => `reloaded: ${r.applied.join(', ') || 'nothing changed'}${r.restartNeeded.length ? `; needs a restart: ${r.restartNeeded.join(', ')}` : ''}\n`);
        return 0;
      }
      case 'security events':
      case 'security': {
        const r = await api.call<{ items: Record<string, unknown>[]; total: number }>('GET', `/security/events?limit=${encodeURIComponent(v.limit ?? '100')}`);
        show(r, () => table(r.items, ['at', 'kind', 'mac', 'client', 'detail']));
        return 0;
      }
      case 'audit': {
        const r = await api.call<{ items: Record<string, unknown>[] }>('GET', `/audit?limit=${encodeURIComponent(v.limit ?? '100')}`);
        show(r, () => table(r.items, ['at', 'actor', 'method', 'path', 'status', 'summary']));
        return 0;
      }
      case 'node list': {
        const q = new URLSearchParams();
        for (const k of ['image', 'search', 'enabled', 'limit'] as const) if (v[k] !== undefined) q.set(k, String(v[k]));
        if (!q.has('limit')) q.set('limit', '10000');
        const r = await api.call<{ items: Record<string, unknown>[]; total: number }>('GET', `/nodes?${q}`);
        show(r, () => table(r.items.map(flat), NODE_COLUMNS) + (r.total > r.items.length ? `(${r.items.length} of ${r.total})\n` : ''));
        return 0;
      }
      case 'node show': {
        const n = await api.call<Record<string, unknown>>('GET', `/nodes/${key(arg)}`);
        show(n, () => block(n));
        return 0;
      }
      case 'node add': {
        const n = await api.call<Record<string, unknown>>('POST', '/nodes', nodeFields(v));
        show(n, () => `registered ${String(n.fqdn)} (${String(n.mac)}, ${String(n.ipv4)})\n`);
        return 0;
      }
      case 'node set': {
        const n = await api.call<Record<string, unknown>>('PATCH', `/nodes/${key(arg)}`, nodeFields(v));
        show(n, () => block(n));
        return 0;
      }
      case 'node rm': {
        const n = await api.call<Record<string, unknown>>('DELETE', `/nodes/${key(arg)}`);
        show(n, () => `deleted ${String(n.fqdn)} (${String(n.mac)}); its state directory is archived\n`);
        return 0;
      }
      case 'node import': {
        if (!arg) throw new UsageError('node import needs a file (JSON array or CSV with a header row) or -');
        const text = arg === '-' ? await stdin() : readFileSync(arg, 'utf8');
        const body = /^\s*\[/.test(text) ? (JSON.parse(text) as unknown) : parseCsv(text).map(csvRowToNode);
        const r = await api.call<{ imported: number }>('POST', '/nodes/import', body);
        show(r, () => `imported ${r.imported} nodes\n`);
        return 0;
      }
      case 'node events': {
        const q = v.limit ? `?limit=${encodeURIComponent(v.limit)}` : '';
        const r = await api.call<{ items: Record<string, unknown>[] }>('GET', `/nodes/${key(arg)}/events${q}`);
        show(r, () => table(r.items, ['at', 'kind', 'detail']));
        return 0;
      }
      case 'discovered list': {
        const r = await api.call<{ items: Record<string, unknown>[] }>('GET', '/discovered?limit=10000');
        show(r, () => table(r.items, ['mac', 'arch', 'vendorClass', 'userClass', 'via', 'firstSeen', 'lastSeen', 'seenCount']));
        return 0;
      }
      case 'token list': {
        const r = await api.call<{ items: Record<string, unknown>[] }>('GET', '/tokens');
        show(r, () => table(r.items, ['id', 'name', 'role', 'createdAt', 'lastUsedAt', 'revokedAt']));
        return 0;
      }
      case 'token create': {
        if (!arg) throw new UsageError('token create needs a name');
        const t = await api.call<{ name: string; role: string; secret: string }>('POST', '/tokens', { name: arg, role: v['read-only'] ? 'readonly' : 'admin' });
        show(t, () => `token ${t.name} (${t.role}); the secret is shown only now:\n${t.secret}\n`);
        return 0;
      }
      case 'token revoke': {
        if (!arg) throw new UsageError('token revoke needs an id or name');
        const t = await api.call<{ name: string }>('DELETE', `/tokens/${encodeURIComponent(arg)}`);
        show(t, () => `revoked token ${t.name}\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command: ${pos.join(' ')}`);
    }
  } catch (e) {
    if (e instanceof UsageError) return usage(err, e.message);
    if (e instanceof ApiError) {
      err(`netroot: ${e.message}${e.field && !e.message.includes(e.field) ? ` (${e.field})` : ''}\n`);
      if (e.status === 401) err(`${tokenHint(v.token !== undefined ? 'flag' : env.NETROOT_TOKEN ? 'env' : null)}\n`);
      return e.status === 401 || e.status === 403 ? 3 : 1;
    }
    err(`netroot: ${(e as Error).message}\n`);
    return 1;
  }
}

class UsageError extends Error {}

/** What a CLI user does about a 401: the API's message speaks HTTP, this one speaks CLI. */
export function tokenHint(source: 'flag' | 'env' | null): string {
  if (source === null) {
    return 'netroot: no API token given: pass --token nrt_... or set NETROOT_TOKEN=nrt_... (the first admin token is in the file initial-admin-token in netroot\'s data directory on the server, /var/lib/netroot by default; there, `netroot token create NAME --local` makes another)';
  }
  const where = source === 'flag' ? '--token' : 'NETROOT_TOKEN';
  return `netroot: the token given with ${where} was refused: check it, or make a new one on the server with \`netroot token create NAME --local\``;
}

function usage(err: (s: string) => void, msg: string): number {
  err(`netroot: ${msg}\nrun 'netroot --help' for usage\n`);
  return 2;
}
