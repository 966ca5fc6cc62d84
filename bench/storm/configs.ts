/**
 * What each side of the storm is given, rendered from one fleet so both serve the same nodes, the
 * same files and the same answers. Pure.
 *
 * netroot: its own config file, as a user writes one (`netroot serve --config FILE`).
 * Reference: dnsmasq for DHCP + TFTP and nginx for HTTP, each as its documentation sets it up for
 * iPXE: dnsmasq hands firmware the loader and iPXE (which sends option 175) a script URL with
 * `${mac}`, which iPXE expands; nginx serves per-MAC scripts rendered by netroot's own renderer
 * (same bytes as netroot's answer), a refusal script for every other MAC, and the kernel and
 * initramfs under netroot's URL layout.
 *
 * Settings that differ from the references' defaults, and why (the report repeats these):
 * - dnsmasq `tftp-max=500` (default 50): netroot's tftp.maxTransfers default is 500; with 50, nodes
 *   past the 50th wait for their firmware's RRQ retry.
 * - dnsmasq `no-ping` (default: ping a new pool address and wait up to 3 s for an echo): netroot
 *   does no such check, so the pool run would measure dnsmasq's ping wait, not the same work.
 *   Optional (`ping: true`).
 * - nginx `worker_connections 4096` (Debian ships 768): netroot's http.maxConnections is 4096.
 */
import { renderIpxeRefusal, renderIpxeScript } from '../../pxe/boot/ipxe.js';
import { ARCH, CIDR, DOMAIN, HTTP_PORT, IMAGE, LOADER_NAME, POOL, SERVER, VERSION, type StormNode } from './fleet.js';

export const LEASE_SEC = 3600;

export interface NetrootConfigInput {
  dataDir: string;
  ifname: string;
  pool: boolean;
  /** The 1 MB loader, served from memory as netroot serves every boot loader (boot.loaders). */
  loaderPath: string;
}

/** netroot.json for the storm: DHCP on the storm link, the loader for arch 7, HTTP on the server address. */
export function netrootConfig(o: NetrootConfigInput): Record<string, unknown> {
  return {
    dataDir: o.dataDir,
    http: { listen: SERVER, port: HTTP_PORT },
    boot: { loaders: { [LOADER_NAME]: o.loaderPath } },
    dhcp: {
      interfaces: [o.ifname],
      subnets: [{ cidr: CIDR, domain: DOMAIN, leaseTimeSec: LEASE_SEC, ...(o.pool ? { pool: { ...POOL } } : {}) }],
      bootFiles: { [String(ARCH)]: LOADER_NAME },
    },
    nfs: { backend: 'none' },
  };
}

/** The node list for `netroot node import` (JSON array). */
export function netrootImport(nodes: StormNode[]): { mac: string; fqdn: string; ipv4: string; image: string }[] {
  return nodes.filter((n) => n.known).map((n) => ({ mac: n.mac, fqdn: n.fqdn, ipv4: n.ipv4!, image: IMAGE }));
}

export interface DnsmasqInput {
  ifname: string;
  nodes: StormNode[];
  pool: boolean;
  tftpRoot: string;
  leaseFile: string;
  pidFile: string;
  logFile: string;
  /** dnsmasq's default ping check of new pool addresses (off unless asked; see the header). */
  ping?: boolean;
}

export function dnsmasqConf(o: DnsmasqInput): string {
  const lines = [
    '# storm: DHCP + TFTP only (port=0: no DNS)',
    'port=0',
    `interface=${o.ifname}`,
    'user=root',
    `pid-file=${o.pidFile}`,
    `log-facility=${o.logFile}`,
    `dhcp-leasefile=${o.leaseFile}`,
    'dhcp-authoritative',
    `domain=${DOMAIN}`,
    o.pool ? `dhcp-range=${POOL.start},${POOL.end},255.255.0.0,${LEASE_SEC}s` : `dhcp-range=10.60.0.0,static,255.255.0.0,${LEASE_SEC}s`,
    ...(o.pool && !o.ping ? ['no-ping'] : []),
    // iPXE announces itself with option 175 (ipxe.org/howto/dhcpd): it gets the script URL,
    // firmware gets the loader.
    'dhcp-match=set:ipxe,175',
    `dhcp-boot=tag:!ipxe,${LOADER_NAME}`,
    `dhcp-boot=tag:ipxe,http://${SERVER}:${HTTP_PORT}/boot/\${mac}.ipxe`,
    'enable-tftp',
    `tftp-root=${o.tftpRoot}`,
    'tftp-max=500',
    ...o.nodes.filter((n) => n.known).map((n) => `dhcp-host=${n.mac},${n.ipv4},${n.fqdn.split('.')[0]}`),
    '',
  ];
  return lines.join('\n');
}

export interface NginxInput {
  prefix: string;
  scriptsDir: string;
  /** Holds `vmlinuz` and `initrd.img`. */
  filesDir: string;
  pidFile: string;
  errorLog: string;
  accessLog: string;
}

/** nginx with Debian's nginx.conf settings that matter here (sendfile, tcp_nopush, access log). */
export function nginxConf(o: NginxInput): string {
  const tmp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${o.prefix}/tmp;`);
  return [
    'daemon off;',
    'user root;',
    'worker_processes auto;',
    `pid ${o.pidFile};`,
    `error_log ${o.errorLog} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  sendfile on;',
    '  tcp_nopush on;',
    '  keepalive_timeout 65;',
    '  default_type application/octet-stream;',
    `  access_log ${o.accessLog};`,
    ...tmp,
    '  server {',
    `    listen ${SERVER}:${HTTP_PORT};`,
    `    location ~ ^/boot/([0-9a-f:]+)\\.ipxe$ { root ${o.scriptsDir}; default_type text/plain; try_files /$1.ipxe /unknown.ipxe =404; }`,
    `    location ~ ^/boot/[0-9a-f:]+/[^/]+/(vmlinuz|initrd\\.img)$ { root ${o.filesDir}; try_files /$1 =404; }`,
    '    location / { return 404; }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * The iPXE scripts nginx serves: for each registered node the script netroot renders for it
 * (same renderer, same URLs and command line), and `unknown.ipxe`, netroot's refusal for an
 * unregistered MAC. `rootPath` is where netroot's data dir keeps the version's root.
 */
export function referenceScripts(nodes: StormNode[], rootPath: string): Map<string, string> {
  const out = new Map<string, string>();
  const base = `http://${SERVER}:${HTTP_PORT}`;
  for (const n of nodes) {
    if (!n.known) continue;
    const node = { mac: n.mac, fqdn: n.fqdn, ipv4: n.ipv4!, bootMode: 'ipxe' as const, enabled: true, kernelArgs: '', image: IMAGE, stateMode: 'nfs' as const };
    const image = { name: IMAGE, version: VERSION, kernelPath: '/unused', initrdPath: '/unused', rootPath, kernelArgs: '' };
    out.set(`${n.mac}.ipxe`, renderIpxeScript({ boot: true, node, image }, { baseUrl: base, nfsServer: SERVER }));
  }
  // netroot's refusal names the MAC; a static file cannot, so it says "this MAC" (same length class).
  out.set('unknown.ipxe', renderIpxeRefusal('this MAC is not registered with netroot (recorded as discovered)'));
  return out;
}
