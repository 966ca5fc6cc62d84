/**
 * The default initramfs drivers: the golden host's loaded network and storage drivers. The seed
 * passes every loaded module (`--add-drivers "$xs"`, xs from lsmod); netroot keeps the classes a
 * node needs to reach its root and its disks, and only modules the image's own kernel has, found
 * in that kernel's modules.dep: dracut's --add-drivers fails the whole build on a module it
 * cannot find (a driver the golden host loaded from another kernel version, or built in).
 */

/** Directories of the kernel tree whose modules are network or storage drivers (and their buses). */
export const DRIVER_DIRS = [
  'kernel/drivers/net/', 'kernel/drivers/scsi/', 'kernel/drivers/ata/', 'kernel/drivers/nvme/',
  'kernel/drivers/block/', 'kernel/drivers/virtio/', 'kernel/drivers/hv/',
];
/** Wireless and CAN cards are network drivers, but no node boots its root over them. */
export const DRIVER_SKIP_DIRS = ['kernel/drivers/net/wireless/', 'kernel/drivers/net/can/'];

/** The kernel treats - and _ in module names alike; /proc/modules shows _. */
const norm = (name: string) => name.replace(/-/g, '_');

/** Module name -> path (as modules.dep lists it) for one kernel. */
export function parseModulesDep(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const path = line.slice(0, line.indexOf(':'));
    const m = /([^/]+)\.ko(?:\.(?:xz|gz|zst))?$/.exec(path);
    if (m) out.set(norm(m[1]!), path);
  }
  return out;
}

/** The loaded modules that are network or storage drivers of this kernel, sorted, deduplicated. */
export function defaultDrivers(loaded: readonly string[], modulesDep: ReadonlyMap<string, string>): string[] {
  const out = new Set<string>();
  for (const name of loaded) {
    const path = modulesDep.get(norm(name));
    if (!path) continue;
    const rel = path.replace(/^.*?(kernel\/)/, '$1');
    if (DRIVER_DIRS.some((d) => rel.startsWith(d)) && !DRIVER_SKIP_DIRS.some((d) => rel.startsWith(d))) out.add(norm(name));
  }
  return [...out].sort();
}
