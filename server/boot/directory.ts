/**
 * The store-backed BootDirectory: what a MAC boots, for DHCP, TFTP and HTTP alike. A new boot
 * gets the node's pinned version, else its image's active version; a boot in progress asks for the
 * version its script named. Only a version that is `ready` is ever served.
 */
import { join } from 'node:path';
import type { BootDirectory, BootImage, BootTarget } from '../../pxe/boot/types.js';
import type { NodeRecord, Store } from '../store/types.js';

export interface DirectoryOptions {
  /** <dataDir>/images */
  imagesDir: string;
  /**
   * How long an image's resolution (active version, version state) is reused: a DHCP storm asks
   * for the same few images thousands of times a second. A publish is seen within this time.
   */
  cacheMs?: number;
  now?: () => number;
}

/**
 * Kernel arguments an image's settings imply, before its own kernelArgs (which win on a
 * duplicate): SELinux `disabled` needs selinux=0, since RHEL 9 kernels cannot disable it at run
 * time from /etc/selinux/config (exports/image/stateless/selinux.ts).
 */
export function selinuxArgs(selinux: unknown): string {
  return selinux === 'disabled' ? 'selinux=0' : '';
}

export function versionDir(imagesDir: string, image: string, version: string): string {
  return join(imagesDir, image, version);
}

export function storeDirectory(store: Store, o: DirectoryOptions): BootDirectory {
  const cacheMs = o.cacheMs ?? 1000;
  const now = o.now ?? Date.now;
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();
  /** The entry for key, loaded afresh when older than cacheMs; `at` is when it was loaded. */
  function cached<T>(key: string, load: () => Promise<T>): { at: number; value: Promise<T> } {
    const t = now();
    const hit = cache.get(key);
    if (hit && t - hit.at < cacheMs) return hit as { at: number; value: Promise<T> };
    if (cache.size > 10_000) cache.clear();
    const entry = { at: t, value: load() };
    cache.set(key, entry);
    return entry;
  }
  /** What a version resolves to, and when the oldest record it was made from was read. */
  type Resolved = { at: number; image: BootImage | null };
  async function resolve(name: string, node: NodeRecord, requested?: string): Promise<Resolved> {
    const ie = cached(`i\0${name}`, () => store.images.get(name));
    const image = await ie.value;
    // A boot in progress names its version (any ready version of the node's image); a new boot
    // gets the pinned or active one.
    const version = requested ?? node.pinnedVersion ?? image?.activeVersion ?? null;
    if (!image || !version) return { at: ie.at, image: null };
    const ve = cached(`v\0${image.name}\0${version}`, () => store.versions.get(image.name, version));
    const v = await ve.value;
    const at = Math.min(ie.at, ve.at);
    if (!v || v.state !== 'ready') return { at, image: null };
    const dir = versionDir(o.imagesDir, image.name, version);
    const args = image.settings.kernelArgs;
    // Shared by every lookup while it is fresh, so frozen.
    return {
      at,
      image: Object.freeze({
        name: image.name,
        version,
        kernelPath: join(dir, 'boot', 'vmlinuz'),
        initrdPath: join(dir, 'boot', 'initramfs.img'),
        rootPath: join(dir, 'root'),
        kernelArgs: [selinuxArgs(image.settings.selinux), typeof args === 'string' ? args : ''].filter(Boolean).join(' '),
      }),
    };
  }
  /**
   * The resolution per image and asked-for version (requested, else pinned, else the active
   * one), kept until its oldest record is cacheMs old, and answered without an await while
   * fresh: DHCP asks it for every packet of a registered node, and re-resolving (awaits, keys,
   * paths) was about a third of what a reply allocated.
   */
  const resolved = new Map<string, Resolved>();
  function imageOf(node: NodeRecord, requested?: string): BootImage | null | Promise<BootImage | null> {
    const name = node.image;
    if (!name) return null;
    const key = `${name}\0${requested ?? node.pinnedVersion ?? ''}`;
    const hit = resolved.get(key);
    if (hit && now() - hit.at < cacheMs) return hit.image;
    return resolve(name, node, requested).then((r) => {
      if (resolved.size > 10_000) resolved.clear();
      resolved.set(key, r);
      return r.image;
    });
  }
  return {
    async lookup(mac: string, version?: string): Promise<BootTarget | null> {
      const node = await store.nodes.getByMac(mac);
      if (!node) return null;
      const found = imageOf(node, version);
      const image = found instanceof Promise ? await found : found;
      return {
        ...(version !== undefined ? { requestedVersion: version } : {}),
        node: {
          mac: node.mac,
          fqdn: node.fqdn,
          ipv4: node.ipv4,
          bootMode: node.bootMode,
          enabled: node.enabled,
          kernelArgs: node.kernelArgs,
          image: node.image,
          stateMode: node.stateMode,
        },
        image,
      };
    },
  };
}
