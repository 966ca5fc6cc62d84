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
