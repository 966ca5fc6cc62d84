/**
 * netroot's portable read-only root, for distros without RHEL's readonly-root (Debian, Ubuntu,
 * ...), and the unit that reports "booted". Plain POSIX sh + systemd units, so any systemd
 * distro works. Same semantics as /usr/libexec/readonly-root: rwtab paths copied (files), dir
 * trees recreated (dirs) or created empty (empty) on a tmpfs and bind mounted; statetab paths
 * bind mounted from the node's state directory, <CLIENTSTATE>/<fqdn> over NFS, copied from the
 * image on first boot.
 */

/** Printed by the booted unit once the server answered. docs/lab.md, trap 10: it must not be
 * matchable by systemd's own "Starting netroot-booted.service - <Description>..." line. */
export const BOOT_MARKER = 'NETROOT_BOOT_REPORTED';

export const SCRIPT_DIR = '/usr/lib/netroot';
export const UNIT_DIR = '/etc/systemd/system';

/**
 * Paths whose presence means the root brings its own readonly-root implementation, by release
 * (fedora-sysv/initscripts): EL7's initscripts 9.49 ships `systemd/rhel-readonly` as
 * /usr/lib/systemd/rhel-readonly with rhel-readonly.service; EL8 and EL9 ship
 * `usr/libexec/readonly-root` with readonly-root.service in the `readonly-root` subpackage
 * (initscripts.spec: split at 9.82, not installed by default); Fedora before the split used the
 * fedora-readonly names. Missing EL7's names here made a CentOS 7 image get netroot's portable
 * unit as well, so two implementations bound the same paths.
 */
export const NATIVE_READONLY_ROOT = [
  '/usr/libexec/readonly-root',
  '/usr/lib/systemd/rhel-readonly',
  '/lib/systemd/fedora-readonly',
  '/usr/lib/systemd/fedora-readonly',
  '/usr/lib/systemd/system/readonly-root.service',
  '/usr/lib/systemd/system/rhel-readonly.service',
  '/usr/lib/systemd/system/fedora-readonly.service',
];

/** The units of every readonly-root flavour (RHEL's by release, netroot's portable one). */
export const READONLY_ROOT_UNITS = ['netroot-readonly-root.service', 'readonly-root.service', 'rhel-readonly.service', 'fedora-readonly.service'];

/** String.raw, except that \${ gives a literal ${ (shell parameter expansion, not interpolation). */
const sh = (s: TemplateStringsArray, ...v: unknown[]): string => String.raw(s, ...v).replaceAll('\\${', '${');

const COMMON = sh`PATH=/usr/sbin:/usr/bin:/sbin:/bin
cmdline_arg() {
  for w in $(cat /proc/cmdline 2>/dev/null); do
    case "$w" in "$1"=*) echo "\${w#*=}"; return 0 ;; esac
  done
  return 1
}
`;

export const READONLY_ROOT_SCRIPT = sh`#!/bin/sh
# netroot portable readonly-root (semantics of RHEL's /usr/libexec/readonly-root).
${COMMON}
log() { echo "netroot-readonly-root: $*"; }
[ -r /etc/sysconfig/readonly-root ] && . /etc/sysconfig/readonly-root
[ "\${READONLY:-no}" = yes ] || [ "\${TEMPORARY_STATE:-no}" = yes ] || exit 0
RW_MOUNT=\${RW_MOUNT:-/var/lib/stateless/writable}
STATE_MOUNT=\${STATE_MOUNT:-/var/lib/stateless/state}

node_fqdn() {
  f=$(cmdline_arg netroot.fqdn) && [ -n "$f" ] && { echo "$f"; return; }
  f=$(hostname -f 2>/dev/null)
  case "$f" in *.*) echo "$f"; return ;; esac
  cat /proc/sys/kernel/hostname
}

same_owner_mode() { chmod "$(stat -c %a "$1")" "$2"; chown "$(stat -c %u:%g "$1")" "$2"; }

# copy_into TYPE PATH BASE: put PATH (of the root) under BASE as rwtab TYPE says.
copy_into() {
  mkdir -p "$3$(dirname "$2")"
  case "$1" in
    files) cp -a "$2" "$3$2" ;;
    dirs)
      if [ -d "$2" ]; then
        find "$2" -type d | while IFS= read -r d; do mkdir -p "$3$d" && same_owner_mode "$d" "$3$d"; done
      else cp -a "$2" "$3$2"; fi ;;
    empty)
      if [ -d "$2" ]; then mkdir -p "$3$2"; else : > "$3$2"; fi
      same_owner_mode "$2" "$3$2" ;;
  esac
}

bind() {
  mount --bind "$1" "$2" || { log "cannot bind $1 on $2"; return 1; }
  [ "\${SLAVE_MOUNTS:-no}" = yes ] && mount --make-slave "$2"
  return 0
}

tab_lines() { for f in "$@"; do [ -f "$f" ] && grep -v '^[[:space:]]*\(#\|$\)' "$f"; done; }

# Writable area: the RW_LABEL partition if the node has one, else RAM.
mkdir -p "$RW_MOUNT" 2>/dev/null
if [ -n "\${RW_LABEL:-}" ] && [ -e "/dev/disk/by-label/$RW_LABEL" ]; then
  mount \${RW_OPTIONS:+-o "$RW_OPTIONS"} "LABEL=$RW_LABEL" "$RW_MOUNT"
else
  mount -t tmpfs -o mode=0755 netroot-rw "$RW_MOUNT"
fi
tab_lines /etc/rwtab /etc/rwtab.d/* | while read -r type path; do
  # Symlinks (e.g. /var/lock -> /run/lock) already point somewhere writable.
  [ -e "$path" ] && [ ! -L "$path" ] || continue
  copy_into "$type" "$path" "$RW_MOUNT" && bind "$RW_MOUNT$path" "$path"
done

# Persistent area: <CLIENTSTATE>/<fqdn> over NFS (created on first boot when the export allows),
# or the STATE_LABEL partition.
state=no
mkdir -p "$STATE_MOUNT" 2>/dev/null
if [ -n "\${CLIENTSTATE:-}" ]; then
  fqdn=$(node_fqdn)
  if mount -t nfs -o rw,nolock\${STATE_OPTIONS:+,$STATE_OPTIONS} "$CLIENTSTATE/$fqdn" "$STATE_MOUNT"; then
    state=yes
  else
    top="$RW_MOUNT/.clientstate"
    mkdir -p "$top"
    if mount -t nfs -o rw,nolock "$CLIENTSTATE" "$top" && mkdir -p "$top/$fqdn" && mount --bind "$top/$fqdn" "$STATE_MOUNT"; then
      state=yes
    else
      log "cannot mount $CLIENTSTATE/$fqdn: statetab paths stay read-only"
    fi
  fi
elif [ -n "\${STATE_LABEL:-}" ] && [ -e "/dev/disk/by-label/$STATE_LABEL" ]; then
  mount \${STATE_OPTIONS:+-o "$STATE_OPTIONS"} "LABEL=$STATE_LABEL" "$STATE_MOUNT" && state=yes
fi
if [ "$state" = yes ]; then
  tab_lines /etc/statetab /etc/statetab.d/* | while read -r path rest; do
    [ -e "$path" ] && [ ! -L "$path" ] || continue
    [ -e "$STATE_MOUNT$path" ] || copy_into files "$path" "$STATE_MOUNT"
    bind "$STATE_MOUNT$path" "$path"
  done
fi

exit 0
`;

/**
 * The kernel host name, set to the node's registered FQDN (netroot.fqdn= on its command line)
 * before RHEL's readonly-root runs. That script names the state directory after the host name of
 * the moment: `mount -t nfs $CLIENTSTATE/$HOSTNAME` with HOSTNAME="$(hostname)"
 * (fedora-sysv/initscripts usr/libexec/readonly-root; EL7's systemd/rhel-readonly takes bash's
 * own $HOSTNAME, the same gethostname()), while netroot names it by FQDN. netroot's DHCP answer
 * already makes the initramfs set the FQDN (pxe/dhcp/hostname.ts); this unit makes it hold when
 * another DHCP server answers (proxy mode) or an initramfs takes option 12 without option 15.
 * Installed only into roots with RHEL's readonly-root: the portable unit reads netroot.fqdn= itself.
 */
export const HOSTNAME_SCRIPT = sh`#!/bin/sh
# netroot: kernel host name = the node's registered FQDN, before readonly-root names the state by it.
${COMMON}
f=$(cmdline_arg netroot.fqdn) || exit 0
case "$f" in ''|*[!a-z0-9.-]*) echo "netroot-hostname: ignoring netroot.fqdn=$f"; exit 0 ;; esac
[ "$(cat /proc/sys/kernel/hostname)" = "$f" ] && exit 0
echo "$f" > /proc/sys/kernel/hostname || { echo "netroot-hostname: cannot set the host name to $f"; exit 1; }
echo "netroot-hostname: host name set to $f"
exit 0
`;

/** Before every readonly-root flavour (they read the host name once, when they start). */
export const HOSTNAME_UNIT = `[Unit]
Description=Host name from the node's registration (netroot.fqdn=)
DefaultDependencies=no
Conflicts=shutdown.target
After=systemd-remount-fs.service
Before=local-fs-pre.target shutdown.target ${READONLY_ROOT_UNITS.join(' ')}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${SCRIPT_DIR}/hostname

[Install]
WantedBy=local-fs.target
`;

/**
 * Per-node SSH host keys (image policy "state"): the image holds empty placeholders, which
 * readonly-root (netroot's or RHEL's) bind mounts from the node's state directory; each is filled
 * once, through that mount, so the keys persist there. Its own unit, not part of readonly-root,
 * because RHEL's readonly-root is not ours and RHEL's sshd-keygen cannot fill a bind-mounted file
 * (it removes the key first: EBUSY). A placeholder still read-only (no state directory) gets a key
 * in RAM for this boot, so sshd still starts, never with the golden host's key.
 */
export const HOSTKEYS_SCRIPT = sh`#!/bin/sh
# netroot: per-node SSH host keys, generated once into the node's state directory.
${COMMON}
log() { echo "netroot-hostkeys: $*"; }
command -v ssh-keygen >/dev/null || { log "no ssh-keygen in this root: host keys left empty"; exit 0; }
dir=/run/netroot/hostkeys
mkdir -p "$dir" && chmod 700 "$dir" || exit 1

# put SRC DEST: DEST gets SRC's content; a read-only DEST gets SRC bind mounted over it.
put() {
  [ -f "$2" ] || return 0
  if cat "$1" 2>/dev/null > "$2"; then rm -f "$1"; return 0; fi
  log "$2 is read-only (no state directory?): its key lasts this boot only"
  mount --bind "$1" "$2"
}

for k in /etc/ssh/ssh_host_*_key; do
  [ -f "$k" ] && [ ! -s "$k" ] || continue
  t=\${k#/etc/ssh/ssh_host_}; t=\${t%_key}
  new="$dir/\${k##*/}"
  rm -f "$new" "$new.pub"
  ssh-keygen -q -t "$t" -N '' -f "$new" </dev/null || { log "ssh-keygen -t $t failed: $k left empty"; continue; }
  put "$new" "$k" && put "$new.pub" "$k.pub"
done
exit 0
`;

export const BOOTED_SCRIPT = sh`#!/bin/sh
# netroot: tell the server this node is up: POST /boot/<mac>/booted.
${COMMON}
[ -r /etc/netroot/booted.conf ] && . /etc/netroot/booted.conf
s=$(cmdline_arg netroot.server) && NETROOT_SERVER=$s
[ -n "\${NETROOT_SERVER:-}" ] || { echo "netroot-booted: no server configured"; exit 1; }
host=\${NETROOT_SERVER%:*}
port=\${NETROOT_SERVER##*:}
[ "$port" = "$NETROOT_SERVER" ] && port=80

# The boot interface: pxelinux's BOOTIF=01-aa-bb-.., else the default route's device, else the
# first interface that is up.
mac=$(cmdline_arg BOOTIF) && mac=$(echo "\${mac#01-}" | tr '-' ':')
if [ -z "$mac" ]; then
  dev=$(ip route show default 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -n 1)
  if [ -z "$dev" ]; then
    for d in /sys/class/net/*; do
      [ "\${d##*/}" != lo ] && [ "$(cat "$d/operstate" 2>/dev/null)" = up ] && { dev=\${d##*/}; break; }
    done
  fi
  [ -n "$dev" ] && mac=$(cat "/sys/class/net/$dev/address")
fi
mac=$(echo "$mac" | tr 'A-F' 'a-f')
[ -n "$mac" ] || { echo "netroot-booted: boot interface not found"; exit 1; }
# What this node runs, from its own command line (netroot fixes one version per boot): netroot
# keeps that version as long as the node may run it.
path="/boot/$mac/booted"
img=$(cmdline_arg netroot.image) && ver=$(cmdline_arg netroot.version) && path="$path?image=$img&version=$ver"
# The boot's token, in this node's own state directory (mounted by readonly-root): lets netroot
# take the report when it does not come from the node's registered address.
[ -r /etc/sysconfig/readonly-root ] && . /etc/sysconfig/readonly-root
token=$(cat "\${STATE_MOUNT:-/var/lib/stateless/state}/.netroot-boot-token" 2>/dev/null | tr -cd 'A-Za-z0-9_-')

post() {
  if command -v curl >/dev/null; then
    curl -fsS -m 10 -X POST -d '' \${token:+-H "X-Netroot-Boot-Token: $token"} "http://$host:$port$path" >/dev/null
  elif command -v wget >/dev/null; then
    # Not wget -T: Debian 12's busybox wget segfaults with it. timeout(1) bounds it instead.
    to=; command -v timeout >/dev/null && to="timeout 15"
    $to wget -q -O /dev/null --post-data='' \${token:+--header="X-Netroot-Boot-Token: $token"} "http://$host:$port$path"
  elif command -v bash >/dev/null; then
    bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
      printf "POST %s HTTP/1.0\r\nHost: %s\r\nContent-Length: 0\r\n%b\r\n" "$3" "$1" "\${4:+X-Netroot-Boot-Token: $4\r\n}" >&3
      read -r status <&3
      case "$status" in HTTP/*" 2"[0-9][0-9]*) exit 0 ;; esac
      exit 1' netroot-post "$host" "$port" "$path" "$token"
  else
    echo "netroot-booted: neither curl, wget nor bash in this root"; return 1
  fi
}

i=0
while [ $i -lt 10 ]; do
  if post; then echo "${BOOT_MARKER} mac=$mac"; exit 0; fi
  i=$((i + 1)); sleep 3
done
echo "netroot-booted: $host:$port did not accept the report"
exit 1
`;

export const READONLY_ROOT_UNIT = `[Unit]
Description=Read-only root: writable paths on tmpfs, state from the node's directory
DefaultDependencies=no
Conflicts=shutdown.target
After=systemd-remount-fs.service
Before=local-fs-pre.target local-fs.target shutdown.target systemd-tmpfiles-setup.service systemd-random-seed.service systemd-journal-flush.service
Wants=local-fs-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${SCRIPT_DIR}/readonly-root

[Install]
WantedBy=local-fs.target
`;

/**
 * The units that generate SSH host keys, by release: EL7's openssh-server has one
 * sshd-keygen.service running /usr/sbin/sshd-keygen; EL8 and EL9 have sshd-keygen@.service
 * instances (rsa, ecdsa, ed25519) pulled in by sshd-keygen.target. Each runs while a key file is
 * empty or missing (ConditionFileNotEmpty=|!) and removes the file before ssh-keygen writes it: on
 * a placeholder bind mounted from the state directory the removal fails (EBUSY), on the read-only
 * root it fails (EROFS). So netroot-hostkeys.service fills the placeholders first; the keygen
 * units' conditions are then false and they do not run.
 */
export const SSHD_KEYGEN_UNITS = ['sshd-keygen.service', 'sshd-keygen@rsa.service', 'sshd-keygen@ecdsa.service', 'sshd-keygen@ed25519.service', 'sshd-keygen@dsa.service'];

/** Early (sshd may be socket-activated), after every readonly-root flavour has bound the state. */
export const HOSTKEYS_UNIT = `[Unit]
Description=Per-node SSH host keys in the node's state directory
DefaultDependencies=no
Conflicts=shutdown.target
After=local-fs.target systemd-random-seed.service ${READONLY_ROOT_UNITS.join(' ')}
Before=sysinit.target shutdown.target ssh.socket ssh.service sshd.socket sshd.service sshd-keygen.target ${SSHD_KEYGEN_UNITS.join(' ')}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${SCRIPT_DIR}/hostkeys

[Install]
WantedBy=sysinit.target
`;

export const BOOTED_UNIT = `[Unit]
Description=Report this node to its boot server
Wants=network-online.target
After=network-online.target netroot-readonly-root.service

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=3min
StandardOutput=journal+console
ExecStart=${SCRIPT_DIR}/booted

[Install]
WantedBy=multi-user.target
`;

export function renderBootedConf(server: string, port: number): string {
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(server)) throw new Error(`bootReport.server: ${JSON.stringify(server)} is not a host`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bootReport.port: ${port} is not a port`);
  return `# Written by netroot: where netroot-booted.service reports (netroot.server= on the kernel command line wins).\nNETROOT_SERVER=${server}:${port}\n`;
}
