/**
 * What netroot serves over TFTP: boot loaders from memory, generated pxelinux.cfg/01-<mac>,
 * a pxelinux node's kernel and initrd (boot/01-<mac>/vmlinuz, .../initrd.img), and otherwise the
 * static TFTP root. Only this file knows the boot policy; the TFTP server just calls the handler.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { normalizeMac } from '../net/mac.js';
import type { FileCache } from '../tftp/cache.js';
import type { FileHandler, TftpFile } from '../tftp/files.js';
import { safeSegments } from '../tftp/static-root.js';
import { decideBoot } from './decision.js';
import type { DiscoverySink } from './events.js';
import { INITRD_NAME, KERNEL_NAME } from './ipxe.js';
import { renderPxelinuxConfig, type PxelinuxOptions } from './pxelinux.js';
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
}

const PXELINUX_MAC = /^01-((?:[0-9a-f]{2}-){5}[0-9a-f]{2})$/i;

/** The MAC a TFTP path names (pxelinux.cfg/01-<mac> or boot/01-<mac>/...), else null. */
export function macOfTftpPath(path: string): string | null {
  const segs = path.split(/[/\\]+/).filter((s) => s !== '');
  if (segs.length === 2 && segs[0] === 'pxelinux.cfg') {
    const m = PXELINUX_MAC.exec(segs[1]!);
    return m ? normalizeMac(m[1]!) : null;
  }
  if (segs.length === 3 && segs[0] === 'boot') {
    const m = PXELINUX_MAC.exec(segs[1]!);
    return m ? normalizeMac(m[1]!) : null;
  }
  return null;
}

export function createBootTftpHandler(opts: BootTftpOptions): FileHandler {
  const fileOf = async (path: string): Promise<TftpFile | null> => {
    const st = await stat(path).catch(() => null);
    if (!st?.isFile()) return null;
    const data = opts.cache ? await opts.cache.get(path, st) : null;
    if (data) return { size: data.length, data };
    return { size: st.size, open: () => createReadStream(path, { highWaterMark: 256 << 10 }) };
  };

  return async (name, client) => {
    const segs = safeSegments(name);
    if (segs.length === 1) {
      const loader = opts.loaders.get(segs[0]!);
      if (loader) return { size: loader.length, data: loader };
    }
    const mac = macOfTftpPath(segs.join('/'));
    if (mac) {
      const d = decideBoot(mac, await opts.directory.lookup(mac));
      if (!d.boot && d.reason === 'unknown') {
        opts.discovery?.({ mac, arch: null, vendorClass: null, userClass: null, uuid: null, relay: null, via: 'tftp' });
      }
      if (segs[0] === 'pxelinux.cfg') {
        // Unknown MACs fall through to the static root so pxelinux goes on to its next name
        // (IP in hex, then "default"), as it would without netroot.
        if (!d.boot && d.reason === 'unknown') return opts.fallback ? opts.fallback(name, client) : null;
        if (d.boot && d.node.bootMode !== 'pxelinux') return null;
        const data = Buffer.from(renderPxelinuxConfig(d, opts.pxelinux));
        return { size: data.length, data };
      }
      if (!d.boot) return null;
      if (segs[2] === KERNEL_NAME) return fileOf(d.image.kernelPath);
      if (segs[2] === INITRD_NAME) return fileOf(d.image.initrdPath);
      return null;
    }
    return opts.fallback ? opts.fallback(name, client) : null;
  };
}
