/**
 * The one typed configuration. Every path and port comes from here, so tests run in a temp root
 * on high ports. Sections for subsystems grow with them; unknown keys are refused so a typo in
 * netroot.json fails at start, naming the field.
 */
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const level = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const ipv4 = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, { message: 'not an IPv4 address' });

/** DHCP: off until interfaces are named (netroot is never a DHCP server by accident). */
const dhcpSchema = z.strictObject({
  interfaces: z.array(z.string().min(1).max(15)).default([]),
  mode: z.enum(['full', 'proxy']).default('full'),
  subnets: z
    .array(
      z.strictObject({
        cidr: z.string(),
        router: ipv4.optional(),
        dns: z.array(ipv4).optional(),
        domain: z.string().optional(),
        leaseTimeSec: z.number().int().min(60).optional(),
        serverAddress: ipv4.optional(),
        pool: z.strictObject({ start: ipv4, end: ipv4 }).optional(),
      }),
    )
    .default([]),
  /** Boot file by RFC 4578 client architecture (0 BIOS, 7/9 UEFI x64, 11 arm64). */
  bootFiles: z.record(z.string().regex(/^\d+$/), z.string().min(1)).default({}),
  pxelinuxFiles: z.record(z.string().regex(/^\d+$/), z.string().min(1)).optional(),
  proxyAnswerAll: z.boolean().default(false),
  rivals: z.enum(['warn', 'refuse']).default('warn'),
  detectRivalsAtStart: z.boolean().default(true),
  rivalProbeMs: z.number().int().min(100).max(60_000).default(5000),
  /** Receive buffer per DHCP socket in bytes (0 = kernel default): absorbs a boot storm's bursts. */
  recvBufferBytes: z.union([z.literal(0), z.number().int().min(65_536).max(256 * 1024 * 1024)]).default(2 * 1024 * 1024),
  ports: z.strictObject({ server: port.optional(), client: port.optional(), proxy: port.optional() }).default({}),
});

const octalMode = z.string().regex(/^0?[0-7]{3,4}$/, { message: 'an octal mode such as "0755"' });

/** NFS: the export table netroot owns and the per-node state directories. */
const nfsSchema = z.strictObject({
  /** none: netroot renders nothing (another tool serves NFS); kernel: exports.d + exportfs; ganesha: EXPORT blocks + reload. */
  backend: z.enum(['none', 'kernel', 'ganesha']).default('none'),
  /**
   * Who may mount the images tree (every version's root, /etc/shadow included): "nodes", the
   * address of every registered node and nothing else, kept in step with the registry; "networks",
   * every host of nodeNetworks (any machine plugged into the node network).
   */
  rootExport: z.enum(['nodes', 'networks']).default('nodes'),
  /** Networks the images tree is exported to when rootExport is "networks"; default: the DHCP subnets. */
  nodeNetworks: z.array(z.string()).default([]),
  rootOptions: z.array(z.string()).optional(),
  stateOptions: z.array(z.string()).optional(),
  debounceMs: z.number().int().min(0).max(60_000).default(500),
  kernel: z.strictObject({
    exportsFile: z.string().default('/etc/exports.d/netroot.exports'),
    etcExports: z.string().default('/etc/exports'),
    etab: z.string().default('/var/lib/nfs/etab'),
    /** exportfs to run (a path, or a name looked up in PATH). */
    exportfs: z.string().min(1).default('exportfs'),
  }).prefault({}),
  ganesha: z.strictObject({
    exportsFile: z.string().default('/etc/ganesha/netroot.conf'),
    pidFile: z.string().default('/run/ganesha/ganesha.pid'),
    logPath: z.string().nullable().default('/var/log/ganesha/ganesha.log'),
    mainConfig: z.string().nullable().default('/etc/ganesha/ganesha.conf'),
  }).prefault({}),
  /** New state directories: mode and owner. */
  stateMode: octalMode.default('0755'),
  stateUid: z.number().int().min(0).optional(),
  stateGid: z.number().int().min(0).optional(),
});

export const configSchema = z.strictObject({
  /** Where netroot keeps its database, images, state dirs and TFTP root. Default depends on uid. */
  dataDir: z.string().min(1),
  http: z.strictObject({
    listen: z.string().min(1).default('127.0.0.1'),
    port: port.default(8080),
    /** Largest JSON body for ordinary API requests (read only after the token is checked). */
    bodyLimitBytes: z.number().int().min(1024).default(1 << 20),
    /**
     * Largest JSON body for a bulk import. 10,000 realistic nodes (FQDN, image, kernel args) are
     * 2.8 MiB as the CLI and UI send them, 3.4 MiB pretty-printed; 16 MiB leaves room for 1 KiB of
     * kernel arguments on each of them.
     */
    importLimitBytes: z.number().int().min(1024).default(16 << 20),
    /**
     * Open connections at most (boot clients, API, UI): connections past it are closed at once,
     * so clients that open and hold sockets cannot exhaust memory or file descriptors. A boot
     * storm of N nodes holds about N.
     */
    maxConnections: z.number().int().min(16).default(4096),
  }).prefault({}),
  /** How nodes reach netroot (boot URLs, NFS root). */
  boot: z.strictObject({
    /**
     * Base URL of the HTTP boot routes as nodes see it. "{server}" is replaced by the address the
     * node's DHCP reply came from. Default: http://{server}:<http.port>.
     */
    httpBase: z.string().optional(),
    /**
     * netroot's address on the boot network: NFS server in root= and CLIENTSTATE, where nodes
     * report "booted". Default: the address the node reached netroot's HTTP server on.
     */
    serverAddress: ipv4.optional(),
    /** dracut root syntax: nfs: (version negotiated) or nfs4: (NFS-Ganesha with NFSv4 only). */
    nfs: z.enum(['nfs', 'nfs4']).default('nfs'),
    /** NFS mount options appended to root= (e.g. "vers=4.2"). */
    nfsOptions: z.string().regex(/^[A-Za-z0-9=.,_-]*$/, { message: 'mount options (letters, digits, = . , _ -)' }).default(''),
    /** ip=dhcp, or ip=dhcp plus BOOTIF so dracut uses the interface the node booted from. */
    ip: z.enum(['dhcp', 'bootif']).default('dhcp'),
    /** Boot loader files by TFTP name, overriding Debian's paths (e.g. {"ipxe-arm64.efi": "/srv/ipxe/arm64.efi"}). */
    loaders: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/), z.string()).default({}),
  }).prefault({}),
  /** TFTP: boot loaders (from memory), pxelinux configs made on the fly, a static root. */
  tftp: z.strictObject({
    /** auto: on when DHCP serves interfaces (netroot serves nothing on a network it was not pointed at). */
    enabled: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    listen: z.string().default('0.0.0.0'),
    port: port.default(69),
    /** Static files beside the generated ones; default <dataDir>/tftp. */
    root: z.string().optional(),
    maxTransfers: z.number().int().min(1).default(500),
    maxPerClient: z.number().int().min(1).default(4),
    /**
     * Receive buffer of the request socket (port 69), bytes, forced past net.core.rmem_max; 0 = the
     * kernel default (~208 KiB, some 270 requests: a rack powering on sends more at once).
     */
    recvBufferBytes: z.union([z.literal(0), z.number().int().min(65_536).max(256 * 1024 * 1024)]).default(2 * 1024 * 1024),
    maxBlksize: z.number().int().min(512).max(65464).default(65464),
    maxWindowsize: z.number().int().min(1).max(65535).default(64),
    timeoutMs: z.number().int().min(100).default(1000),
    maxTimeoutMs: z.number().int().min(100).default(8000),
    retries: z.number().int().min(1).default(5),
    /** Worker threads that run transfers (0: all on the main thread). Many clients at once go faster on 2. */
    workers: z.number().int().min(0).max(64).default(2),
    cacheMaxFileBytes: z.number().int().min(0).default(4 << 20),
    cacheMaxTotalBytes: z.number().int().min(0).default(64 << 20),
  }).prefault({}),
  dhcp: dhcpSchema.prefault({}),
  nfs: nfsSchema.prefault({}),
  /** Golden-host pulls and image versions. */
  images: z.strictObject({
    /** Ready versions kept per image besides the active, pinned and last-booted ones. */
    keep: z.number().int().min(1).max(100).default(3),
    /** Keep a failed pull's partial tree for inspection. */
    keepFailed: z.boolean().default(false),
    /** Extra rsync arguments for pulls (e.g. ["--bwlimit=50m"]). */
    rsyncExtra: z.array(z.string()).default([]),
    /** dracut and lsinitrd to run (on the golden host, or in the root for chroot builds); default from PATH. */
    dracut: z.string().optional(),
    lsinitrd: z.string().optional(),
  }).prefault({}),
  log: z.strictObject({
    level: level.default('info'),
  }).prefault({}),
  events: z.strictObject({
    /** Keep at most this many timeline events per MAC (oldest dropped). */
    maxPerNode: z.number().int().min(10).default(1000),
    /** Drop events older than this. */
    maxAgeDays: z.number().min(0.001).default(30),
    /** A boot with no progress for this long is shown as stuck. */
    stuckAfterSec: z.number().int().min(10).default(600),
    /**
     * Bounds on what unauthenticated clients can make netroot store: the discovered list (rows,
     * and days an unseen MAC stays), the security log (rows), timeline events per MAC per minute
     * (after a burst of as many), new discoveries per source address per minute (after a burst).
     */
    discoveredMax: z.number().int().min(10).default(10_000),
    discoveredMaxAgeDays: z.number().min(0.001).default(30),
    securityMax: z.number().int().min(10).default(10_000),
    perMacPerMin: z.number().int().min(10).default(60),
    discoveriesPerSourcePerMin: z.number().int().min(1).default(120),
  }).prefault({}),
});

export type Config = z.infer<typeof configSchema>;
