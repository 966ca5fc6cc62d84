/** A node and image as the store would hand them over (shared by the boot tests). */
import type { BootImage, BootNode, BootTarget } from './types.js';

export function fixtureTarget(node: Partial<BootNode> = {}, image: Partial<BootImage> | null = {}): BootTarget {
  return {
    node: {
      mac: '52:54:00:12:34:56',
      fqdn: 'node1.lab.example',
      ipv4: '10.52.0.10',
      bootMode: 'ipxe',
      enabled: true,
      kernelArgs: 'console=ttyS0,115200 quiet',
      image: 'debian12',
      ...node,
    },
    image:
      image === null
        ? null
        : {
            name: 'debian12',
            version: '3',
            kernelPath: '/var/lib/netroot/images/debian12/3/boot/vmlinuz',
            initrdPath: '/var/lib/netroot/images/debian12/3/boot/initramfs.img',
            rootPath: '/var/lib/netroot/images/debian12/3/root',
            kernelArgs: 'console=tty0 net.ifnames=0',
            ...image,
          },
  };
}
