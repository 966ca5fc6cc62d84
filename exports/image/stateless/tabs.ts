/**
 * /etc/sysconfig/readonly-root, /etc/rwtab.d/netroot and /etc/statetab.d/netroot: the seed's
 * "Setup rw/state" and "Setup as read-only", rendered whole by pure functions.
 */
import type { RwtabEntry, StateMode } from '../types.js';

/** Seed: "Whatever your setup, you will want ... in /etc/rwtab". */
export const SEED_RWTAB: readonly RwtabEntry[] = [
  { type: 'files', path: '/etc/localtime' },
  { type: 'dirs', path: '/var/lock' },
  { type: 'files', path: '/var/lib/postfix/master.lock' },
  { type: 'dirs', path: '/var/lib/gssproxy' },
];
/** Seed: statetab gets /var/log. */
export const SEED_STATETAB: readonly string[] = ['/var/log'];

export const RW_MOUNT = '/var/lib/stateless/writable';
export const STATE_MOUNT = '/var/lib/stateless/state';

function checkPath(p: string, field: string): void {
  if (!p.startsWith('/') || /\s/.test(p) || p.split('/').includes('..')) {
    throw new Error(`${field}: ${JSON.stringify(p)} must be an absolute path without spaces or ..`);
  }
}

/** Seed values; diskless comments the labels out and sets CLIENTSTATE, local disk the reverse. */
export function renderReadonlyRoot(state: StateMode): string {
  const diskless = state.kind === 'diskless';
  const rwLabel = state.kind === 'local' ? state.rwLabel : 'stateless-rw';
  const stLabel = state.kind === 'local' ? state.stateLabel : 'stateless-state';
  if (diskless) {
    if (!state.server || /[\s:]/.test(state.server)) throw new Error(`state.server: ${JSON.stringify(state.server)} is not a host`);
    checkPath(state.stateExport, 'state.stateExport');
  } else {
    for (const [f, v] of [['state.rwLabel', rwLabel], ['state.stateLabel', stLabel]] as const) {
      if (!/^[A-Za-z0-9._-]{1,16}$/.test(v)) throw new Error(`${f}: ${JSON.stringify(v)} is not a filesystem label`);
    }
  }
  const c = diskless ? '#' : '';
  return [
    '# Written by netroot: the node mounts its root read-only (seed "Setup as read-only").',
    'READONLY=yes',
    'TEMPORARY_STATE=yes',
    `RW_MOUNT=${RW_MOUNT}`,
    `${c}RW_LABEL=${rwLabel}`,
    'RW_OPTIONS=',
    `${c}STATE_LABEL=${stLabel}`,
    `STATE_MOUNT=${STATE_MOUNT}`,
    'STATE_OPTIONS=',
    `CLIENTSTATE=${diskless ? `${state.server}:${state.stateExport}` : ''}`,
    'SLAVE_MOUNTS=yes',
    '',
  ].join('\n');
}

/** Seed list first, then the image's; a later entry for the same path replaces the earlier one. */
export function mergeRwtab(...lists: ReadonlyArray<readonly RwtabEntry[]>): RwtabEntry[] {
  const byPath = new Map<string, RwtabEntry>();
  for (const list of lists) {
    for (const e of list) {
      checkPath(e.path, 'rwtab');
      if (!['dirs', 'files', 'empty'].includes(e.type)) throw new Error(`rwtab: type ${JSON.stringify(e.type)} for ${e.path} is not dirs, files or empty`);
      byPath.delete(e.path);
      byPath.set(e.path, e);
    }
  }
  return [...byPath.values()];
}

export function mergeStatetab(...lists: ReadonlyArray<readonly string[]>): string[] {
  const out: string[] = [];
  for (const list of lists) for (const p of list) {
    checkPath(p, 'statetab');
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** rwtab(5) syntax as RHEL's readonly-root reads it: `<type>\t<path>`, one per line. */
export function renderRwtab(entries: readonly RwtabEntry[]): string {
  return ['# Written by netroot: paths kept on tmpfs (lost at reboot).', ...entries.map((e) => `${e.type}\t${e.path}`), ''].join('\n');
}

/** statetab: one path per line, bind mounted from the node's state directory. */
export function renderStatetab(paths: readonly string[]): string {
  return ['# Written by netroot: paths kept in the node\'s own state directory.', ...paths, ''].join('\n');
}

/** Parses "dirs /x", "files /x", "empty /x" or a bare "/x" (= dirs) from the image settings. */
export function parseRwtabEntry(s: string): RwtabEntry {
  const m = /^\s*(?:(dirs|files|empty)\s+)?(\/\S*)\s*$/.exec(s);
  if (!m) throw new Error(`rwtab: ${JSON.stringify(s)} is not "[dirs|files|empty] /path"`);
  const e: RwtabEntry = { type: (m[1] as RwtabEntry['type'] | undefined) ?? 'dirs', path: m[2]! };
  checkPath(e.path, 'rwtab');
  return e;
}
