/**
 * The boot policy's first question for a MAC: boot it, or say why not. Every front end (iPXE
 * script, pxelinux config, kernel/initrd over HTTP or TFTP) asks this, so a disabled node is
 * refused the same way everywhere.
 */
import type { BootImage, BootNode, BootTarget } from './types.js';

export type Refusal = 'unknown' | 'disabled' | 'no-image';

export type BootDecision =
  | { boot: true; node: BootNode; image: BootImage }
  | { boot: false; reason: Refusal; mac: string; node: BootNode | null; message: string };

export function decideBoot(mac: string, target: BootTarget | null): BootDecision {
  if (!target) {
    return { boot: false, reason: 'unknown', mac, node: null, message: `${mac} is not registered with netroot (recorded as discovered)` };
  }
  const { node, image } = target;
  if (!node.enabled) {
    return { boot: false, reason: 'disabled', mac, node, message: `node ${node.fqdn} (${mac}) is disabled` };
  }
  if (!image) {
    const what = !node.image
      ? 'no image is assigned'
      : target.requestedVersion !== undefined
        ? `version ${target.requestedVersion} of image ${node.image} is not available (removed or not ready): fetch the boot script again`
        : `image ${node.image} has no published version`;
    return { boot: false, reason: 'no-image', mac, node, message: `node ${node.fqdn} (${mac}): ${what}` };
  }
  return { boot: true, node, image };
}
