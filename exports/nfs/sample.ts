/** A small registry used by the golden tests and the dry-run examples (no I/O). */
import type { ExportInput } from './types.js';

export const SAMPLE_INPUT: ExportInput = {
  imagesDir: '/var/lib/netroot/images',
  stateDir: '/var/lib/netroot/state',
  nodeNetworks: ['10.20.0.0/16', '10.10.0.0/24'],
  nodes: [
    { fqdn: 'node02.lab.example', ipv4: '10.10.0.12', enabled: true, stateMode: 'nfs' },
    { fqdn: 'node01.lab.example', ipv4: '10.10.0.11', enabled: true, stateMode: 'nfs' },
    { fqdn: 'node03.lab.example', ipv4: '10.10.0.13', enabled: false, stateMode: 'nfs' },
    { fqdn: 'disk01.lab.example', ipv4: '10.20.0.21', enabled: true, stateMode: 'local' },
  ],
};

/** Twenty nodes with local state: only the images export, long enough to wrap (kernel lines of
 * eight clients, Ganesha CLIENT blocks of sixteen). */
export const MANY_INPUT: ExportInput = {
  imagesDir: '/var/lib/netroot/images',
  stateDir: '/var/lib/netroot/state',
  nodeNetworks: ['10.10.0.0/24'],
  nodes: Array.from({ length: 20 }, (_, i) => ({ fqdn: `disk${String(i + 1).padStart(2, '0')}.lab.example`, ipv4: `10.10.0.${100 - i}`, enabled: true, stateMode: 'local' as const })),
};
