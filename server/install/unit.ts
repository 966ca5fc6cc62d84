/**
 * netroot's systemd unit, rendered for where netroot is installed. It runs as root because its
 * work is root's (ports 67/69/4011, SO_BINDTODEVICE and ARP entries, exportfs, rsync keeping
 * owners, chroot for dracut), but with only the capabilities that work needs and the file system
 * read-only outside the paths it writes.
 */

export interface UnitOptions {
  node: string;
  bin: string;
  configPath: string;
  dataDir: string;
  /** Extra paths the NFS backend writes (exports.d and etab, or Ganesha's include and pid). */
  writePaths: string[];
}

export function renderUnit(o: UnitOptions): string {
  return `# netroot: PXE/NFS boot server. Rendered by \`netroot install\`; edit with \`systemctl edit netroot\`.
[Unit]
Description=netroot PXE/NFS boot server (DHCP, TFTP, HTTP boot, NFS exports)
Documentation=https://example.invalid/netroot man:exports(5)
Wants=network-online.target
After=network-online.target nfs-server.service nfs-ganesha.service

[Service]
Type=simple
ExecStart=${o.node} ${o.bin} serve --config ${o.configPath}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=2s
TimeoutStopSec=30s
SyslogIdentifier=netroot
StandardOutput=journal
StandardError=journal
LimitNOFILE=65536

# Privileges: what booting nodes really needs, nothing more.
#  NET_BIND_SERVICE  ports 67, 69, 4011 and 80
#  NET_ADMIN         SO_BINDTODEVICE per interface; ARP entries for unicast replies (RFC 2131 4.1)
#  NET_RAW           rival DHCP probes on each interface
#  CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID MKNOD  rsync -aHAX --numeric-ids of whole roots
#  SETUID SETGID     files keep their owners; ssh/rsync children
#  SYS_CHROOT SYS_ADMIN  dracut in the new root (chroot, bind mounts of /proc /sys /dev)
#  KILL              SIGHUP to NFS-Ganesha after an export change
CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_ADMIN CAP_NET_RAW CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_MKNOD CAP_SETUID CAP_SETGID CAP_SYS_CHROOT CAP_SYS_ADMIN CAP_KILL
NoNewPrivileges=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET
ProtectSystem=strict
ReadWritePaths=${[o.dataDir, ...o.writePaths].join(' ')}
ProtectHome=yes
PrivateTmp=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
# Not set, on purpose: ProtectKernelTunables (exportfs writes /proc/fs/nfsd and /proc/net/rpc),
# MemoryDenyWriteExecute (V8's JIT), PrivateDevices and RestrictNamespaces (dracut in a chroot
# needs /dev and mount namespaces), PrivateNetwork (it is the network's boot server).

[Install]
WantedBy=multi-user.target
`;
}
