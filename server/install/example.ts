/** The commented /etc/netroot/netroot.json that `netroot install` writes (comments are allowed). */
export function exampleConfig(o: { dataDir: string; nfsBackend: 'kernel' | 'ganesha' | 'none' }): string {
  return `// netroot configuration. Every key is optional; NETROOT_<PATH> environment variables override
// (e.g. NETROOT_HTTP_PORT=9090). Reload with \`systemctl reload netroot\` or \`netroot reload\`.
{
  // Database, images, per-node state directories, TFTP root and SSH identity.
  "dataDir": "${o.dataDir}",

  // API, web UI and HTTP boot. Nodes fetch iPXE scripts, kernels and initramfs here, so listen
  // on the boot network (0.0.0.0 or that interface's address), not only on 127.0.0.1.
  "http": { "listen": "127.0.0.1", "port": 8080 },

  "boot": {
    // Base URL nodes use for HTTP boot; {server} is the address their DHCP reply came from.
    // "httpBase": "http://{server}:8080",
    // netroot's address on the boot network when DHCP does not tell (proxy mode).
    // "serverAddress": "10.0.0.1"
  },

  // DHCP stays off until interfaces are named. NEVER name an interface where another DHCP
  // server answers unless mode is "proxy".
  "dhcp": {
    "interfaces": [],
    "mode": "full",
    "subnets": [
      // { "cidr": "10.0.0.0/24", "router": "10.0.0.1", "dns": ["10.0.0.1"], "domain": "cluster.example",
      //   "leaseTimeSec": 3600, "pool": { "start": "10.0.0.200", "end": "10.0.0.250" } }
    ],
    // Boot file by client architecture: 0 BIOS, 7/9 UEFI x64, 11 UEFI arm64.
    "bootFiles": {},
    "rivals": "warn"
  },

  // NFS exports: "kernel" (exports.d + exportfs), "ganesha" (EXPORT blocks + reload) or "none".
  "nfs": {
    "backend": "${o.nfsBackend}",
    // Who may mount the read-only images (every root, /etc/shadow included): "nodes" = each
    // registered node's address only, kept in step with the registry; "networks" = any host in
    // nodeNetworks (default: the DHCP subnets), e.g. for nodes whose address DHCP does not fix.
    "rootExport": "nodes",
    "nodeNetworks": []
  },

  "log": { "level": "info" },
  "events": { "maxPerNode": 1000, "maxAgeDays": 30, "stuckAfterSec": 600 }
}
`;
}
