/**
 * HTTP boot routes, framework-free, for the service to mount (no auth, read-only except the
 * "booted" report):
 *   GET  /boot/<mac>.ipxe            the node's iPXE script (or a short script saying why not)
 *   GET  /boot/<mac>/vmlinuz         kernel of the node's image version  } Range, ETag, HEAD
 *   GET  /boot/<mac>/initrd.img      initramfs of the node's image version }
 *   POST /boot/<mac>/booted          the node reports it is up (event "booted")
 * Works mounted at the root or under "/boot" (express strips the mount path from req.url and
 * keeps req.originalUrl; both are understood).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { normalizeMac } from '../net/mac.js';
import { KernelArgsError, type CmdlineOptions } from '../boot/cmdline.js';
import { decideBoot, type BootDecision } from '../boot/decision.js';
import { BootEventKind, type BootEventKind as Kind, type DiscoverySink, type EventSink } from '../boot/events.js';
import { INITRD_NAME, KERNEL_NAME, bootBase, renderIpxeRefusal, renderIpxeScript } from '../boot/ipxe.js';
import type { BootDirectory } from '../boot/types.js';
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
}

type Route = { kind: 'script'; mac: string } | { kind: 'file'; mac: string; file: 'kernel' | 'initrd' } | { kind: 'booted'; mac: string };

/** Parses the path after an optional "/boot" prefix. null = not a boot route. */
export function routeOf(url: string): Route | null {
  const path = url.split('?')[0]!.replace(/^\/boot(?=\/)/, '');
  const macOf = (seg: string) => {
    try {
      return normalizeMac(decodeURIComponent(seg));
    } catch {
      return null; // malformed %-escape
    }
  };
  let m = /^\/([^/]+)\.ipxe$/.exec(path);
  if (m) {
    const mac = macOf(m[1]!);
    return mac ? { kind: 'script', mac } : null;
  }
  m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) return null;
  const mac = macOf(m[1]!);
  if (!mac) return null;
  if (m[2] === KERNEL_NAME) return { kind: 'file', mac, file: 'kernel' };
  if (m[2] === INITRD_NAME) return { kind: 'file', mac, file: 'initrd' };
  if (m[2] === 'booted') return { kind: 'booted', mac };
  return null;
}

export function createBootHandler(opts: BootHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  if (typeof opts.baseUrl === 'string') bootBase(opts.baseUrl); // fail at start, naming the field, not at the first boot
  const baseUrl = (req: IncomingMessage) => (typeof opts.baseUrl === 'string' ? opts.baseUrl : opts.baseUrl(req));
  const nfsServer = (req: IncomingMessage) => (typeof opts.nfsServer === 'string' ? opts.nfsServer : opts.nfsServer(req));
  const log = opts.logger;
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
    let text: string;
    try {
      text = renderIpxeScript(d, { baseUrl: baseUrl(req), nfsServer: nfsServer(req), cmdline: opts.cmdline ?? {} });
    } catch (e) {
      if (!(e instanceof KernelArgsError)) throw e;
      log?.error({ mac, err: e.message }, 'http boot: cannot build the kernel command line');
      text = renderIpxeRefusal(`kernel command line of ${mac} is invalid: ${e.message}`);
    }
    const body = Buffer.from(text);
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
    if (!d.boot && d.reason === 'unknown') {
      opts.discovery({ mac, arch: null, vendorClass: null, userClass: null, uuid: null, relay: null, via: 'http' });
    } else {
      event(mac, BootEventKind.HttpScript, {
        result: d.boot ? 'boot' : d.reason,
        ...(d.boot ? { image: d.image.name, version: d.image.version } : {}),
        bytes: body.length,
        ms: Date.now() - started,
        client: req.socket.remoteAddress,
      });
    }
  }

  async function file(req: IncomingMessage, res: ServerResponse, mac: string, which: 'kernel' | 'initrd'): Promise<void> {
    const d = decideBoot(mac, await opts.directory.lookup(mac));
    if (!d.boot) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`${d.message}\n`);
      return;
    }
    const path = which === 'kernel' ? d.image.kernelPath : d.image.initrdPath;
    // <version>/boot/<file>: only a regular file in the version's own tree, reached without a link.
    const sent = await sendFile(req, res, path, { root: dirname(dirname(path)), log });
    const detail: Record<string, unknown> = { file: which === 'kernel' ? KERNEL_NAME : INITRD_NAME, image: d.image.name, version: d.image.version, status: sent.status, bytes: sent.bytes, ms: sent.ms, result: sent.complete ? 'ok' : 'aborted', client: req.socket.remoteAddress };
    if (sent.range) detail.range = sent.range;
    if (req.method === 'HEAD') detail.method = 'HEAD';
    if (sent.status === 404) log?.error({ mac, path }, 'http boot: image file missing');
    event(mac, which === 'kernel' ? BootEventKind.HttpKernel : BootEventKind.HttpInitrd, detail);
  }

  async function booted(req: IncomingMessage, res: ServerResponse, mac: string): Promise<void> {
    req.resume(); // the body carries nothing we need
    const target = await opts.directory.lookup(mac);
    if (!target) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('unknown node\n');
      return;
    }
    event(mac, BootEventKind.Booted, { client: req.socket.remoteAddress, image: target.image?.name ?? null, version: target.image?.version ?? null });
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
    const work = route.kind === 'script' ? script(req, res, route.mac) : route.kind === 'file' ? file(req, res, route.mac, route.file) : booted(req, res, route.mac);
    work.catch((e: unknown) => {
      log?.error({ err: e, url }, 'http boot: request failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end('internal error\n');
      else res.destroy();
    });
  };
}
