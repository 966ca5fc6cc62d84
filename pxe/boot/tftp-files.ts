/**
 * What netroot serves over TFTP: boot loaders from memory, generated pxelinux.cfg/01-<mac>,
 * a pxelinux node's kernel and initrd (boot/01-<mac>/<version>/vmlinuz, .../initrd.img), else the
 * static TFTP root. Only this file knows the boot policy; the TFTP server just calls the handler.
 */
import { constants, createReadStream, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { openInside } from '../fs/open-inside.js';
import { normalizeMac } from '../net/mac.js';
import type { FileCache } from '../tftp/cache.js';
import { TftpError, type FileHandler, type TftpFile } from '../tftp/files.js';
import { ErrorCode } from '../tftp/constants.js';
import { safeSegments } from '../tftp/static-root.js';
import { decideBoot } from './decision.js';
import { BootEventKind, type DiscoverySink, type EventSink } from './events.js';
import { INITRD_NAME, KERNEL_NAME } from './ipxe.js';
import { renderPxelinuxConfig, renderPxelinuxRefusal, type PxelinuxOptions } from './pxelinux.js';
import type { BootDirectory } from './types.js';

export interface BootTftpOptions {
  directory: BootDirectory;
  /** TFTP name -> bytes (see loaders.ts loadLoaders). */
  loaders: Map<string, Buffer>;
  pxelinux: PxelinuxOptions;
  /** The static TFTP root (createStaticRoot), asked for everything else. */
  fallback?: FileHandler;
  /** Keeps kernels/initrds in memory when set (sized for them). */
  cache?: FileCache;
  discovery?: DiscoverySink;
  /** Boot timeline: a pxelinux config fetched from an address other than the node's is noted. */
  events?: EventSink;
  /** As the HTTP boot handler's: 'refuse' (proxy mode) answers a config that says why. */
  addressMismatch?: () => 'allow' | 'refuse';
  /** Where a refused boot file is reported. */
  log?: Logger;
}

const PXELINUX_MAC = /^01-((?:[0-9a-f]{2}-){5}[0-9a-f]{2})$/i;

/** The MAC a TFTP path names (pxelinux.cfg/01-<mac> or boot/01-<mac>/...), else null. */
export function macOfTftpPath(path: string): string | null {
  const segs = path.split(/[/\\]+/).filter((s) => s !== '');
  if (segs.length === 2 && segs[0] === 'pxelinux.cfg') {
    const m = PXELINUX_MAC.exec(segs[1]!);
    return m ? normalizeMac(m[1]!) : null;
  }
  if (segs.length === 4 && segs[0] === 'boot') {
    const m = PXELINUX_MAC.exec(segs[1]!);
    return m ? normalizeMac(m[1]!) : null;
  }
  return null;
}

const VERSION_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function createBootTftpHandler(opts: BootTftpOptions): FileHandler {
  // <version>/boot/<file>: only a regular file in the version's own tree, reached without a link
  // (a golden host can put links in a root; the pipeline copies them): as HTTP boot does.
  const fileOf = async (path: string): Promise<TftpFile | null> => {
    const o = await openInside(dirname(dirname(path)), path);
    if (o.kind === 'missing') return null;
    if (o.kind === 'refused') {
      opts.log?.error({ path, reason: o.reason }, 'tftp boot: file refused');
      throw new TftpError(ErrorCode.AccessViolation, 'Access violation');
    }
    const st = o.st;
    await o.fh.close();
    const data = opts.cache ? await opts.cache.get(path, st) : null;
    if (data) return { size: data.length, data };
    // The tree of a published version does not change: reopened by the checked path, never
    // through a link at its last name.
    const openFd = () => openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    return { size: st.size, open: () => createReadStream(path, { fd: openFd(), highWaterMark: 256 << 10 }), openFd };
  };

  return async (name, client) => {
    const segs = safeSegments(name);
    if (segs.length === 1) {
      const loader = opts.loaders.get(segs[0]!);
      if (loader) return { size: loader.length, data: loader };
    }
    const mac = macOfTftpPath(segs.join('/'));
    if (mac) {
      // boot/01-<mac>/<version>/<file>: exactly the version the node's config named.
      const version = segs[0] === 'boot' ? segs[2]! : undefined;
      if (version !== undefined && (!VERSION_RE.test(version) || version.includes('..'))) return null;
      const d = decideBoot(mac, await opts.directory.lookup(mac, version));
      if (!d.boot && d.reason === 'unknown') {
        opts.discovery?.({ mac, arch: null, vendorClass: null, userClass: null, uuid: null, relay: null, via: 'tftp', source: client.address });
      }
      if (segs[0] === 'pxelinux.cfg') {
        // Unknown MACs fall through to the static root so pxelinux goes on to its next name
        // (IP in hex, then "default"), as it would without netroot.
        if (!d.boot && d.reason === 'unknown') return opts.fallback ? opts.fallback(name, client) : null;
        if (d.boot && d.node.bootMode !== 'pxelinux') return null;
        let text: string | null = null;
        if (d.boot && client.address !== d.node.ipv4) {
          const refuse = opts.addressMismatch?.() === 'refuse' && d.node.stateMode !== 'local';
          try {
            opts.events?.({ mac, kind: BootEventKind.BootAddress, detail: { registered: d.node.ipv4, seen: client.address, action: refuse ? 'refused' : 'booted' } });
          } catch {
            // EventSink must not throw.
          }
          if (refuse) {
            text = renderPxelinuxRefusal(
              `${d.node.fqdn} is registered at ${d.node.ipv4} but asked from ${client.address}: its state is exported to ${d.node.ipv4} only. Reserve ${d.node.ipv4} for ${mac} on the site DHCP server`,
            );
          }
        }
        const data = Buffer.from(text ?? renderPxelinuxConfig(d, opts.pxelinux));
        return { size: data.length, data };
      }
      if (!d.boot) return null;
      if (segs[3] === KERNEL_NAME) return fileOf(d.image.kernelPath);
      if (segs[3] === INITRD_NAME) return fileOf(d.image.initrdPath);
      return null;
    }
    return opts.fallback ? opts.fallback(name, client) : null;
  };
}
