/**
 * Field rules for the registry, applied once at the edge (API bodies, CLI, imports) and normalised
 * there: MACs lowercase with colons, FQDNs lowercase. Inside, the types are trusted.
 */
import { z } from 'zod';
import { normalizeMac } from '../../pxe/net/mac.js';
import { isIPv4 } from '../../pxe/net/ipv4.js';
import { unicastProblem } from '../../pxe/dhcp/addresses.js';
import { RESERVED_KERNEL_KEYS } from '../../pxe/boot/cmdline.js';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** RFC 1123 host name with at least two labels (host + domain: DHCP gives both), <= 253 chars. */
export function fqdnProblem(fqdn: string): string | null {
  if (fqdn.length === 0) return 'must not be empty';
  if (fqdn.length > 253) return 'longer than 253 characters';
  const labels = fqdn.split('.');
  if (labels.length < 2) return 'must be fully qualified (host.domain)';
  for (const l of labels) {
    if (!LABEL.test(l)) return `label ${JSON.stringify(l)} is not a valid RFC 1123 label (a-z, 0-9, '-', 1-63 chars, no '-' at the ends)`;
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return 'top-level label must not be all digits';
  return null;
}

export const macField = z.string().transform((s, ctx) => {
  const m = normalizeMac(s);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `not a MAC address: ${JSON.stringify(s)}` });
    return z.NEVER;
  }
  const first = parseInt(m.slice(0, 2), 16);
  if (first & 1) {
    ctx.addIssue({ code: 'custom', message: `${m} is a multicast/broadcast address, not a NIC` });
    return z.NEVER;
  }
  if (m === '00:00:00:00:00:00') {
    ctx.addIssue({ code: 'custom', message: 'all-zero MAC is not a NIC' });
    return z.NEVER;
  }
  return m;
});

export const fqdnField = z.string().transform((s, ctx) => {
  const f = s.trim().toLowerCase().replace(/\.$/, '');
  const p = fqdnProblem(f);
  if (p) {
    ctx.addIssue({ code: 'custom', message: p });
    return z.NEVER;
  }
  return f;
});

/** A unicast host address (pxe/dhcp/addresses.ts); the subnet rules are the registry's (they need the config). */
export const ipv4Field = z.string().transform((s, ctx) => {
  const p = unicastProblem(s);
  if (p) {
    ctx.addIssue({ code: 'custom', message: isIPv4(s) ? 'must be a unicast host address (not 0.x.x.x, loopback, multicast or broadcast)' : 'not an IPv4 address (dotted quad)' });
    return z.NEVER;
  }
  return s;
});

/** Image and version names become path components under images/: keep them plain. */
export const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const nameField = z
  .string()
  .regex(NAME_RE, { message: "must be 1-63 of a-z, 0-9, '.', '_', '-' starting with a letter or digit" })
  .refine((s) => !s.includes('..'), { message: "must not contain '..'" });

/**
 * Extra kernel arguments end up on an iPXE `kernel` line and in pxelinux APPEND: only characters
 * that cannot start another command or expand a setting (no newlines, `$`, quotes, `&&`, `||`).
 * root=, ip=, initrd= and the other keys of RESERVED_KERNEL_KEYS are netroot's to set.
 */
const ARG_RE = /^[A-Za-z0-9=._,:/@+%~\-[\]]+$/;
const RESERVED: readonly string[] = [...RESERVED_KERNEL_KEYS, 'BOOT_IMAGE'];
export const kernelArgsField = z
  .string()
  .max(1024)
  .transform((s, ctx) => {
    const args = s.trim().split(/ +/).filter(Boolean);
    for (const a of args) {
      if (!ARG_RE.test(a)) {
        ctx.addIssue({ code: 'custom', message: `argument ${JSON.stringify(a)} has characters not allowed on a kernel command line here` });
        return z.NEVER;
      }
      const key = a.split('=')[0]!;
      if (RESERVED.includes(key) || RESERVED.includes(key.toLowerCase())) {
        ctx.addIssue({ code: 'custom', message: `${key}= is set by netroot from the node's image and cannot be given` });
        return z.NEVER;
      }
    }
    return args.join(' ');
  });
