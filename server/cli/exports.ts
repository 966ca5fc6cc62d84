/** CLI: the NFS export table and the reconciler (adapters over the REST API). */
import type { ApiClient } from './client.js';
import { table } from './format.js';

export interface ExportsCliIo {
  api: ApiClient;
  json: boolean;
  out: (s: string) => void;
}

interface Check {
  nodes: number;
  lacking: { fqdn: string; ipv4: string; lacks: string[]; reason: string }[];
  lackingTotal: number;
  otherMissing: string[];
  orphans: string[];
  orphansTotal: number;
  error: string | null;
}

interface Report extends Check {
  ok: boolean;
  trigger: string;
  at: string;
  durationMs: number;
  created: number;
  createFailed: number;
  apply: { ok: boolean; changed: boolean; error?: string } | null;
}

function describeCheck(c: Check): string {
  const lines: string[] = [];
  if (c.error) lines.push(`cannot compare: ${c.error}`);
  if (c.lackingTotal) {
    lines.push(`${c.lackingTotal} of ${c.nodes} nodes lack a state directory or export:`);
    lines.push(table(c.lacking.map((l) => ({ ...l, lacks: l.lacks.join(',') })), ['fqdn', 'ipv4', 'lacks', 'reason']).trimEnd());
    if (c.lackingTotal > c.lacking.length) lines.push(`(${c.lacking.length} of ${c.lackingTotal} shown; --json for the data)`);
  }
  for (const m of c.otherMissing) lines.push(`not exported: ${m}`);
  if (c.orphansTotal) lines.push(`${c.orphansTotal} state directories belong to no node (archived when the service next starts): ${c.orphans.slice(0, 10).join(', ')}${c.orphansTotal > 10 ? ', ...' : ''}`);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

const applied = (a: Report['apply']) => (a === null ? 'no backend' : a.ok ? `applied${a.changed ? '' : ' (unchanged)'}` : `apply FAILED: ${a.error ?? ''}`);

export async function exportsCommand(io: ExportsCliIo, sub: string | undefined, v: Record<string, unknown>): Promise<number> {
  const { api, out } = io;
  const show = (data: unknown, human: () => string) => out(io.json ? JSON.stringify(data, null, 2) + '\n' : human());
  switch (sub ?? 'show') {
    case 'show': {
      const r = await api.call<{ backend: string; filePath: string | null; lastApply: { ok: boolean; at: string; error?: string } | null; reconcile: { running: boolean; now: Check; last: Report | null } }>('GET', '/exports');
      show(r, () => {
        const last = r.reconcile.last;
        return [
          `backend ${r.backend}${r.filePath ? ` (${r.filePath})` : ''}`,
          `last apply: ${r.lastApply ? `${r.lastApply.ok ? 'ok' : `FAILED: ${r.lastApply.error ?? ''}`} at ${r.lastApply.at}` : '-'}`,
          `last reconcile: ${last ? `${last.trigger} at ${last.at}, ${last.created} created, ${last.ok ? 'ok' : 'incomplete'}` : '-'}${r.reconcile.running ? ' (one is running)' : ''}`,
          '',
        ].join('\n') + (describeCheck(r.reconcile.now) || `all ${r.reconcile.now.nodes} nodes have their state directory and exports\n`);
      });
      return r.reconcile.now.lackingTotal || r.reconcile.now.error ? 1 : 0;
    }
    case 'apply': {
      if (v['dry-run']) {
        const d = await api.call<{ diff: string; added: number; removed: number; dropped: string[] }>('POST', '/exports/apply?dryRun=1');
        show(d, () => `${d.diff}${d.diff.endsWith('\n') || !d.diff ? '' : '\n'}${d.added} added, ${d.removed} removed${d.dropped.length ? `; left out (no directory): ${d.dropped.length}` : ''}\n`);
        return 0;
      }
      const r = await api.call<{ ok: boolean; changed: boolean; error?: string; warnings: string[] }>('POST', '/exports/apply');
      show(r, () => `${r.changed ? 'applied' : 'applied (unchanged)'}${r.warnings.length ? `\nwarnings:\n  ${r.warnings.join('\n  ')}` : ''}\n`);
      return 0;
    }
    case 'reconcile': {
      const r = await api.call<Report>('POST', '/exports/reconcile');
      show(r, () => `reconciled ${r.nodes} nodes in ${r.durationMs} ms: ${r.created} state directories created, ${applied(r.apply)}\n${describeCheck(r)}${r.ok ? 'every node has its state directory and exports\n' : ''}`);
      return r.ok ? 0 : 1;
    }
    default:
      throw new Error(`unknown command: exports ${sub}`);
  }
}
