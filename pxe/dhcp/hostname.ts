/**
 * Options 12 (host name) and 15 (domain name) for a registered node: option 12 carries the whole
 * registered FQDN, option 15 its domain (the subnet's domain for a single-label name).
 *
 * Why the whole FQDN in option 12 (RFC 2132 3.14 allows it: "The name may or may not be qualified
 * with the local domain name"): the initramfs sets the node's kernel host name from it, and RHEL's
 * readonly-root later mounts `$CLIENTSTATE/$HOSTNAME`, the state directory netroot names by FQDN.
 * The initramfs network implementations differ on a short name:
 * - dracut's network-legacy (EL7 dracut 033's 40network, EL8/EL9 35network-legacy),
 *   dhclient-script.sh setup_interface: `${hostname%.$domain}${domain:+.$domain}`: the FQDN from
 *   either form, as long as option 15 is the FQDN's domain;
 * - NetworkManager in dracut (35network-manager, the default on EL8 with nm-initrd-generator and on
 *   EL9), nm-policy.c update_system_hostname: DHCPv4 `host_name` verbatim, domain never added, so a
 *   short option 12 named the node `node1` and its state directory was never found.
 * With the FQDN in option 12 both give the FQDN. pxe/boot/cmdline.ts's netroot.fqdn= covers images
 * that do not rely on DHCP (netroot's portable unit, the netroot-hostname unit).
 */
export interface HostNameOptions {
  /** Option 12. */
  hostName: string;
  /** Option 15, or null when there is none to send. */
  domain: string | null;
}

export function hostNameOptions(fqdn: string, subnetDomain: string | null): HostNameOptions {
  const dot = fqdn.indexOf('.');
  return { hostName: fqdn, domain: dot < 0 ? subnetDomain : fqdn.slice(dot + 1) };
}
