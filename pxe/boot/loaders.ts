/**
 * Boot loader files netroot serves over TFTP: iPXE from Debian's `ipxe` package, syslinux from
 * `pxelinux` and `syslinux-common`, or paths from the configuration. Discovery reports what is
 * missing so the service can say so clearly at start.
 */
import { readFile, stat } from 'node:fs/promises';

export interface LoaderSpec {
  /** Name clients ask for over TFTP. */
  name: string;
  /** Where to look, first found wins. */
  paths: string[];
  /** Debian package that ships it (for the "missing" message). */
  package: string;
  /** What boots with it. */
  purpose: string;
}

export const DEFAULT_LOADERS: readonly LoaderSpec[] = [
  { name: 'undionly.kpxe', paths: ['/usr/lib/ipxe/undionly.kpxe'], package: 'ipxe', purpose: 'BIOS PXE -> iPXE' },
  { name: 'ipxe.efi', paths: ['/usr/lib/ipxe/ipxe.efi'], package: 'ipxe', purpose: 'UEFI x64 firmware PXE -> iPXE' },
  { name: 'snponly.efi', paths: ['/usr/lib/ipxe/snponly.efi'], package: 'ipxe', purpose: 'UEFI x64 iPXE using the firmware NIC driver' },
  { name: 'pxelinux.0', paths: ['/usr/lib/PXELINUX/pxelinux.0'], package: 'pxelinux', purpose: 'BIOS pxelinux mode' },
  { name: 'ldlinux.c32', paths: ['/usr/lib/syslinux/modules/bios/ldlinux.c32'], package: 'syslinux-common', purpose: 'pxelinux core module' },
];

export interface FoundLoader {
  name: string;
  path: string;
  size: number;
}
export interface MissingLoader {
  name: string;
  tried: string[];
  package: string;
  purpose: string;
}
export interface LoaderReport {
  found: FoundLoader[];
  missing: MissingLoader[];
}

/**
 * Finds each loader. `paths` (from config: TFTP name -> file) replaces the default search for
 * that name, and may add names not in the defaults (e.g. an arm64 iPXE).
 */
export async function discoverLoaders(paths: Record<string, string> = {}, specs: readonly LoaderSpec[] = DEFAULT_LOADERS): Promise<LoaderReport> {
  const all = new Map<string, LoaderSpec>(specs.map((s) => [s.name, s]));
  for (const [name, path] of Object.entries(paths)) {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new RangeError(`loaders.${name}: loader names are plain file names`);
    const base = all.get(name);
    all.set(name, { name, paths: [path], package: base?.package ?? 'configured', purpose: base?.purpose ?? 'configured loader' });
  }
  const report: LoaderReport = { found: [], missing: [] };
  for (const spec of all.values()) {
    let hit: FoundLoader | null = null;
    for (const p of spec.paths) {
      const st = await stat(p).catch(() => null);
      if (st?.isFile()) {
        hit = { name: spec.name, path: p, size: st.size };
        break;
      }
    }
    if (hit) report.found.push(hit);
    else report.missing.push({ name: spec.name, tried: spec.paths, package: spec.package, purpose: spec.purpose });
  }
  return report;
}

/** One line per missing loader, for the start-up log. */
export function describeMissing(report: LoaderReport): string[] {
  return report.missing.map((m) => `boot loader ${m.name} (${m.purpose}) not found at ${m.tried.join(', ')}: install Debian package ${m.package} or configure its path`);
}

/**
 * Reads the found loaders into memory (they are small and every booting node asks for one), each
 * in a SharedArrayBuffer, as the TFTP file cache keeps its entries: a transfer worker thread then
 * shares the bytes. In an ordinary Buffer every transfer got its own copy (structured clone): a
 * storm of 500 nodes fetching a 1 MB loader held 500 copies at once, about 0.5 GB.
 */
export async function loadLoaders(report: LoaderReport): Promise<Map<string, Buffer>> {
  const m = new Map<string, Buffer>();
  for (const f of report.found) {
    const data = await readFile(f.path);
    const shared = Buffer.from(new SharedArrayBuffer(data.length));
    data.copy(shared);
    m.set(f.name, shared);
  }
  return m;
}

/**
 * Loader for a PXE client architecture (DHCP option 93, RFC 4578 / IANA): 0 BIOS, 7 and 9 EFI
 * x64, 11 EFI arm64. null = no loader for that architecture.
 */
export function loaderForArch(arch: number | null): string | null {
  switch (arch) {
    case null:
    case 0:
      return 'undionly.kpxe';
    case 7:
    case 9:
      return 'ipxe.efi';
    case 11:
      return 'ipxe-arm64.efi';
    default:
      return null;
  }
}
