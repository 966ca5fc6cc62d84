/**
 * The store-backed BootDirectory: what a MAC boots, for DHCP, TFTP and HTTP alike. A node boots
 * its pinned version, else its image's active version, and only a version that is `ready`.
 */
import { join } from 'node:path';
import type { BootDirectory, BootImage, BootTarget } from '../../pxe/boot/types.js';
import type { NodeRecord, Store } from '../store/types.js';

export interface DirectoryOptions {
  /** <dataDir>/images */
  imagesDir: string;
}

export function versionDir(imagesDir: string, image: string, version: string): string {
  return join(imagesDir, image, version);
}

export function storeDirectory(store: Store, o: DirectoryOptions): BootDirectory {
  async function imageFor(node: NodeRecord): Promise<BootImage | null> {
    if (!node.image) return null;
    const image = await store.images.get(node.image);
    const version = node.pinnedVersion ?? image?.activeVersion ?? null;
    if (!image || !version) return null;
    const v = await store.versions.get(image.name, version);
    if (!v || v.state !== 'ready') return null;
    const dir = versionDir(o.imagesDir, image.name, version);
    const args = image.settings.kernelArgs;
    return {
      name: image.name,
      version,
      kernelPath: join(dir, 'boot', 'vmlinuz'),
      initrdPath: join(dir, 'boot', 'initramfs.img'),
      rootPath: join(dir, 'root'),
      kernelArgs: typeof args === 'string' ? args : '',
    };
  }
  return {
    async lookup(mac: string): Promise<BootTarget | null> {
      const node = await store.nodes.getByMac(mac);
      if (!node) return null;
      return {
        node: {
          mac: node.mac,
          fqdn: node.fqdn,
          ipv4: node.ipv4,
          bootMode: node.bootMode,
          enabled: node.enabled,
          kernelArgs: node.kernelArgs,
          image: node.image,
        },
        image: await imageFor(node),
      };
    },
  };
}
