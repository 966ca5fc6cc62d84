/**
 * HTTP boot routes, framework-free, for the service to mount (no auth, read-only except the
 * "booted" report):
 *   GET  /boot/<mac>.ipxe                   the node's iPXE script (or a short script saying why not)
 *   GET  /boot/<mac>/<version>/vmlinuz      kernel of that image version   } Range, ETag, HEAD
 *   GET  /boot/<mac>/<version>/initrd.img   initramfs of that image version }
 *   POST /boot/<mac>/booted                 the node reports it is up (event "booted")
 * One boot = one version: the script names the version (pinned or active when it is made) in
 * every URL and on the kernel command line, so a publish during a boot changes nothing for it.
 * A "booted" report counts only from the node's registered address, or with the per-boot token
 * only the node can read (its state directory); anything else is refused as a security event.
 * Works mounted at the root or under "/boot" (express strips the mount path from req.url and
 * keeps req.originalUrl; both are understood).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { normalizeMac } from '../net/mac.js';
import { KernelArgsError, type CmdlineOptions } from '../boot/cmdline.js';
import { decideBoot, type BootDecision } from '../boot/decision.js';
import { BootEventKind, type BootEventKind as Kind, type BootTokens, type DiscoverySink, type EventSink, type SecuritySink } from '../boot/events.js';
import { INITRD_NAME, KERNEL_NAME, bootBase, renderIpxeRefusal, renderIpxeScript } from '../boot/ipxe.js';
import type { BootDirectory } from '../boot/types.js';
import { fileSender, fileSenderProblem } from '../native/filesend.js';
import { sendFile } from './send-file.js';

export interface BootHandlerOptions {
  directory: BootDirectory;
  events: EventSink;
  discovery: DiscoverySink;
  /**
   * Base URL iPXE fetches from, e.g. "http://10.0.0.1:8080" (http:// only: Debian's iPXE), or a
   * function of the request (a multi-homed server answers each node on the address it asked).
   */
  baseUrl: string | ((req: IncomingMessage) => string);
  /** NFS server address in root= (usually netroot's address on the node network), or a function of the request. */
  nfsServer: string | ((req: IncomingMessage) => string);
  cmdline?: Omit<CmdlineOptions, 'initrdName'>;
  logger?: Logger;
  /**
   * A node that fetches its script from an address other than its registered one: 'allow' boots
   * it (netroot gave the address itself; a NAT or proxy sits between), 'refuse' answers a script
   * saying why (proxy mode: the site's DHCP server did not reserve the address, so the node's
   * state export, locked to the registered address, would not mount). Both record an event.
   */
  addressMismatch?: 'allow' | 'refuse' | (() => 'allow' | 'refuse');
  bootTokens?: BootTokens;
  security?: SecuritySink;
  /**
   * Kernel and initramfs bodies by the native sender (default), or false: streamed through Node,
   * as also happens when the addon is not built.
   */
  native?: boolean;
}

type Route =
  | { kind: 'script'; mac: string }
  | { kind: 'file'; mac: string; version: string; file: 'kernel' | 'initrd' }
  | { kind: 'booted'; mac: string }
  /** /boot/<mac>/vmlinuz: the form before URLs named their version. */
  | { kind: 'unversioned'; mac: string };

/** Image version names as the registry allows them (server/registry/fields.ts NAME_RE). */
const VERSION_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Parses the path after an optional "/boot" prefix. null = not a boot route. */
export function routeOf(url: string): Route | null {
  const path = url.split('?')[0]!.replace(/^\/boot(?=\/)/, '');
  const decode = (seg: string) => {
    try {
      return decodeURIComponent(seg);
    } catch {
      return null; // malformed %-escape
    }
  };
  const macOf = (seg: string) => {
    const d = decode(seg);
    return d === null ? null : normalizeMac(d);
  };
  const fileOf = (seg: string) => (seg === KERNEL_NAME ? 'kernel' : seg === INITRD_NAME ? 'initrd' : null);
  let m = /^\/([^/]+)\.ipxe$/.exec(path);
  if (m) {
    const mac = macOf(m[1]!);
    return mac ? { kind: 'script', mac } : null;
  }
  m = /^\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (m) {
    const mac = macOf(m[1]!);
    const version = decode(m[2]!);
    const file = fileOf(m[3]!);
    if (!mac || version === null || !VERSION_RE.test(version) || version.includes('..') || !file) return null;
    return { kind: 'file', mac, version, file };
  }
  m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return null;
  const mac = macOf(m[1]!);
  if (!mac) return null;
  if (m[2] === 'booted') return { kind: 'booted', mac };
  if (fileOf(m[2]!)) return { kind: 'unversioned', mac };
  return null;
}

/** The peer's IPv4 address (an IPv4-mapped IPv6 socket address unwrapped), or the raw one. */
export function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** One query parameter of the request URL, or null. */
function queryParam(url: string, name: string): string | null {
  const q = url.indexOf('?');
  if (q < 0) return null;
  try {
    return new URLSearchParams(url.slice(q + 1)).get(name);
  } catch {
    return null;
  }
}

export function createBootHandler(opts: BootHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  if (typeof opts.baseUrl === 'string') bootBase(opts.baseUrl); // fail at start, naming the field, not at the first boot
  const baseUrl = (req: IncomingMessage) => (typeof opts.baseUrl === 'string' ? opts.baseUrl : opts.baseUrl(req));
  const nfsServer = (req: IncomingMessage) => (typeof opts.nfsServer === 'string' ? opts.nfsServer : opts.nfsServer(req));
  const log = opts.logger;
  if (opts.native !== false && !fileSender()) log?.warn({ problem: fileSenderProblem() }, 'http boot: kernel and initramfs are streamed through Node (about half the speed of the native sender)');
  const event = (mac: string, kind: Kind, detail: Record<string, unknown>) => {
    try {
      opts.events({ mac, kind, detail });
    } catch (e) {
      log?.error({ err: e }, 'http boot: event sink threw');
    }
  };

  async function script(req: IncomingMessage, res: ServerResponse, mac: string): Promise<void> {
    const started = Date.now();
    const d: BootDecision = decideBoot(mac, await opts.directory.lookup(mac));
    const client = clientAddress(req);
    let text: string;
    let refused: string | null = null;
    if (d.boot && client !== d.node.ipv4) {
      // Proxy mode beside a site DHCP server that did not reserve the address: the node would boot
      // without its state (the export allows the registered address only) and, without
      // netroot.fqdn, as "localhost". Say so instead, on the console and on its timeline.
      const policy = typeof opts.addressMismatch === 'function' ? opts.addressMismatch() : (opts.addressMismatch ?? 'allow');
      const refuse = policy === 'refuse' && d.node.stateMode !== 'local';
      event(mac, BootEventKind.BootAddress, { registered: d.node.ipv4, seen: client, action: refuse ? 'refused' : 'booted' });
      log?.warn({ mac, fqdn: d.node.fqdn, registered: d.node.ipv4, seen: client, refused: refuse }, 'http boot: node asked from an address other than its registered one');
      if (refuse) {
        refused = `${d.node.fqdn} is registered at ${d.node.ipv4} but asked from ${client}: its state is exported to ${d.node.ipv4} only. Reserve ${d.node.ipv4} for ${mac} on the site DHCP server, or register the address it gets`;
      }
    }
    try {
      text = refused !== null ? renderIpxeRefusal(refused) : renderIpxeScript(d, { baseUrl: baseUrl(req), nfsServer: nfsServer(req), cmdline: opts.cmdline ?? {} });
    } catch (e) {
      if (!(e instanceof KernelArgsError)) throw e;
      log?.error({ mac, err: e.message }, 'http boot: cannot build the kernel command line');
      text = renderIpxeRefusal(`kernel command line of ${mac} is invalid: ${e.message}`);
      refused = 'cmdline';
    }
    const body = Buffer.from(text);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    if (!d.boot && d.reason === 'unknown') {
      opts.discovery({ mac, arch: null, vendorClass: null, userClass: null, uuid: null, relay: null, via: 'http', source: client });
      return;
    }
    event(mac, BootEventKind.HttpScript, {
      result: refused === 'cmdline' ? 'invalid' : refused !== null ? 'address' : d.boot ? 'boot' : d.reason,
      ...(d.boot ? { image: d.image.name, version: d.image.version } : {}),
      bytes: body.length,
      ms: Date.now() - started,
      client,
    });
    if (d.boot && refused === null && req.method !== 'HEAD') {
      opts.bootTokens?.issue(d.node).catch((e: unknown) => log?.error({ mac, err: (e as Error).message }, 'http boot: could not give the boot its report token'));
    }
  }

  async function file(req: IncomingMessage, res: ServerResponse, mac: string, version: string, which: 'kernel' | 'initrd'): Promise<void> {
    const d = decideBoot(mac, await opts.directory.lookup(mac, version));
    if (!d.boot) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`${d.message}\n`);
      return;
    }
    const path = which === 'kernel' ? d.image.kernelPath : d.image.initrdPath;
    // <version>/boot/<file>: only a regular file in the version's own tree, reached without a link.
    const sent = await sendFile(req, res, path, { root: dirname(dirname(path)), log, native: opts.native !== false });
    const detail: Record<string, unknown> = { file: which === 'kernel' ? KERNEL_NAME : INITRD_NAME, image: d.image.name, version: d.image.version, status: sent.status, bytes: sent.bytes, ms: sent.ms, result: sent.complete ? 'ok' : 'aborted', client: clientAddress(req) };
    if (sent.range) detail.range = sent.range;
    if (req.method === 'HEAD') detail.method = 'HEAD';
    if (sent.status === 404) log?.error({ mac, path }, 'http boot: image file missing');
    event(mac, which === 'kernel' ? BootEventKind.HttpKernel : BootEventKind.HttpInitrd, detail);
  }

  /**
   * "booted": only the node itself may say it. From its registered address, or with the token of
   * its boot (written into its own state directory, which only its address can mount). The image
   * and version it reports come from its own kernel command line (netroot.image/netroot.version):
   * what it really runs, which retention must keep.
   */
  async function booted(req: IncomingMessage, res: ServerResponse, mac: string, url: string): Promise<void> {
    req.resume(); // the body carries nothing we need
    const client = clientAddress(req);
    const target = await opts.directory.lookup(mac);
    const refuse = (reason: string, status: number, message: string) => {
      opts.security?.({ kind: 'report.refused', mac, client, detail: { reason } });
      log?.warn({ mac, client, reason }, 'http boot: "booted" report refused');
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(`${message}\n`);
    };
    if (!target) return refuse('unknown node', 404, 'unknown node');
    const header = req.headers['x-netroot-boot-token'];
    const token = typeof header === 'string' ? header.trim() : null;
    let via: 'address' | 'token';
    if (client === target.node.ipv4) via = 'address';
    else if (token && opts.bootTokens?.verify(mac, token)) via = 'token';
    else return refuse(token ? 'wrong boot token' : 'not from the node\'s address', 403, 'a report is accepted only from the node itself');
    const image = queryParam(url, 'image');
    const version = queryParam(url, 'version');
    const named = image !== null && version !== null && VERSION_RE.test(image) && VERSION_RE.test(version);
    event(mac, BootEventKind.Booted, {
      client,
      via,
      // An image without netroot.version on its command line (built before it) cannot say: the
      // event then names no version and the version of the boot's last fetch stands.
      ...(named ? { image, version } : { image: null, version: null, reported: false }),
    });
    res.writeHead(204).end();
  }

  return (req, res) => {
    const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const route = routeOf(url);
    const method = req.method ?? 'GET';
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const allowed = route.kind === 'booted' ? ['POST'] : ['GET', 'HEAD'];
    if (!allowed.includes(method)) {
      res.writeHead(405, { Allow: allowed.join(', '), 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (route.kind === 'unversioned') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('boot file URLs name their image version (/boot/<mac>/<version>/<file>): fetch the boot script again\n');
      return;
    }
    const work =
      route.kind === 'script'
        ? script(req, res, route.mac)
        : route.kind === 'file'
          ? file(req, res, route.mac, route.version, route.file)
          : booted(req, res, route.mac, url);
    work.catch((e: unknown) => {
      log?.error({ err: e, url }, 'http boot: request failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end('internal error\n');
      else res.destroy();
    });
  };
}
