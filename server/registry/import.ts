/** Rows of a CSV node list -> node create bodies (validated later by the API's schema). */

const ALIASES: Record<string, string> = {
  ip: 'ipv4',
  ipaddr: 'ipv4',
  address: 'ipv4',
  hostname: 'fqdn',
  host: 'fqdn',
  args: 'kernelArgs',
  kernel_args: 'kernelArgs',
  boot_mode: 'bootMode',
  state_mode: 'stateMode',
  pinned_version: 'pinnedVersion',
  pin: 'pinnedVersion',
};

const BOOL: Record<string, boolean> = { true: true, yes: true, '1': true, on: true, false: false, no: false, '0': false, off: false };

export function csvRowToNode(row: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(row)) {
    if (value === '') continue;
    const key = ALIASES[rawKey.toLowerCase()] ?? rawKey;
    out[key] = key === 'enabled' ? (BOOL[value.toLowerCase()] ?? value) : value;
  }
  return out;
}
