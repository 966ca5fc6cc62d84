/** MAC addresses: netroot's one normal form is lowercase hex, colon separated ("52:54:00:12:34:56"). */

const SEPARATED = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i;
const BARE = /^[0-9a-f]{12}$/i;
const DOTTED = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i;

/** Returns the normal form of a MAC written with ':' or '-', Cisco dots, or bare hex; null if it is not one. */
export function normalizeMac(input: string): string | null {
  const s = input.trim();
  let hex: string;
  const sep = SEPARATED.exec(s);
  if (sep) hex = sep.slice(1).join('');
  else if (BARE.test(s)) hex = s;
  else {
    const dot = DOTTED.exec(s);
    if (!dot) return null;
    hex = dot.slice(1).join('');
  }
  hex = hex.toLowerCase();
  return hex.match(/../g)!.join(':');
}

/** Formats 6 bytes (e.g. chaddr) in the normal form. */
export function macFromBytes(buf: Uint8Array): string {
  if (buf.length < 6) throw new RangeError(`mac: need 6 bytes, got ${buf.length}`);
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(buf[i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** The 6 bytes of a normalised MAC. */
export function macToBytes(mac: string): Buffer {
  const n = normalizeMac(mac);
  if (!n) throw new RangeError(`mac: not a MAC address: ${JSON.stringify(mac)}`);
  return Buffer.from(n.replace(/:/g, ''), 'hex');
}

/** pxelinux's per-node config name: "01-" (ARP type Ethernet) + MAC with dashes. */
export function pxelinuxName(mac: string): string {
  return `01-${mac.replace(/:/g, '-')}`;
}
