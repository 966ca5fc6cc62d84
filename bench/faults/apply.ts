/**
 * Apply phase: each round changes the registry in ways that rewrite the export table (nodes
 * added, disabled or enabled again, deleted) and asks for an apply (POST /api/v1/exports/apply);
 * exportfs waits a random 0-250 ms before and after its run, and the service is killed either at
 * a random moment of the round or once an apply reaches a chosen stage (before, inside or after
 * exportfs). After the restart has settled, the exports file must be exactly the registry
 * rendered, exportfs's etab must be that file, nothing half-written may be left, and every deleted
 * node's state must be in the archive (never lost, never still exported).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Tally, some, type PhaseReport } from './checks.js';
import type { ExportfsStage } from './exportfs-probe.js';
import { Lab, rand, sleep } from './lab.js';
import { checkNfsAgrees, registryNodes } from './nfs-checks.js';

const NETWORKS = ['10.62.0.0/16'];
const BASE_NODES = 300;
const STAGES: ExportfsStage[] = ['delay before exportfs', 'exportfs running', 'after exportfs, before read-back'];

let next = 0;
function newNode() {
  const k = next++;
  const hex = (x: number) => x.toString(16).padStart(2, '0');
  return { mac: `02:62:00:${hex(k >> 16)}:${hex((k >> 8) & 255)}:${hex(k & 255)}`, fqdn: `n${k}.apply.test`, ipv4: `10.62.${Math.floor(k / 250)}.${(k % 250) + 1}` };
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rand(0, i);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

export async function applyPhase(rounds: number): Promise<PhaseReport> {
  const t0 = Date.now();
  const t = new Tally();
  const lab = await Lab.create({ name: 'apply', exportfsDelayMs: 250, nodeNetworks: NETWORKS });
  /** FQDNs whose DELETE committed (seen gone from the registry after a restart). */
  const deleted = new Set<string>();
  let roundMs = 3000;
  const figures = { added: 0, deleted: 0, toggled: 0, exportfsRuns: 0 };
  try {
    await lab.start();
    const base = Array.from({ length: BASE_NODES }, newNode);
    const imp = await lab.api('POST', '/nodes/import', base);
    if (imp.status !== 201) throw new Error(`base import: ${imp.status} ${JSON.stringify(imp.body).slice(0, 300)}`);
    await lab.nfsSettled();
    for (let round = 1; round <= rounds; round++) {
      t.round = round;
      if (!lab.nr) await lab.start();
      const current = await registryNodes(lab);
      const adds = Array.from({ length: rand(1, 15) }, newNode);
      const dels = shuffle([...current]).slice(0, rand(0, 6));
      const toggles = shuffle(current.filter((n) => !dels.includes(n))).slice(0, rand(0, 3));
      let doing = 'starting';
      const answered = { added: [] as string[], deleted: [] as string[] };
      const roundStart = Date.now();
      const driver = (async () => {
        for (const n of adds) {
          doing = 'POST /nodes';
          if ((await lab.api('POST', '/nodes', n)).status === 201) answered.added.push(n.fqdn);
        }
        for (const n of toggles) {
          doing = 'PATCH /nodes (enabled)';
          await lab.api('PATCH', `/nodes/${n.mac}`, { enabled: !n.enabled });
        }
        for (const n of dels) {
          doing = 'DELETE /nodes';
          if ((await lab.api('DELETE', `/nodes/${n.mac}`)).status === 204) answered.deleted.push(n.fqdn);
        }
        doing = 'POST /exports/apply';
        await lab.api('POST', '/exports/apply');
        doing = 'requests done (reconcile pass may run)';
        roundMs = Math.round((roundMs + (Date.now() - roundStart)) / 2);
      })().catch(() => undefined);

      // Odd rounds: once an apply reaches a chosen stage; even rounds: at a random moment.
      const target = round % 2 ? STAGES[Math.floor(round / 2) % STAGES.length]! : null;
      if (target) {
        const until = Date.now() + 20_000;
        while (Date.now() < until && !lab.probe.inFlight().includes(target)) await sleep(5);
        await sleep(rand(0, 60));
      } else {
        await sleep(rand(0, Math.round(roundMs * 1.1)));
      }
      const action = doing;
      const k = await lab.kill();
      await driver;
      t.check('the service was running at the kill', k.wasRunning);
      const where = `${action}: ${k.exportfs.length ? k.exportfs.join(' + ') : 'no exportfs running'}`;
      t.kill(where);

      await lab.start();
      await lab.nfsSettled();
      const orphans = await lab.reapOrphans(60_000);
      t.check('children of the killed service ended by themselves', orphans.length === 0, () => JSON.stringify(orphans));
      const v = await checkNfsAgrees(lab, t, NETWORKS);
      const fqdns = new Set(v.nodes.map((n) => n.fqdn));
      const lostAdds = answered.added.filter((f) => !fqdns.has(f));
      t.check('a node answered 201 is in the registry', lostAdds.length === 0, () => `missing ${some(lostAdds)}`);
      const back = answered.deleted.filter((f) => fqdns.has(f));
      t.check('a node answered 204 (deleted) is gone', back.length === 0, () => `still there ${some(back)}`);
      for (const n of dels) if (!fqdns.has(n.fqdn)) deleted.add(n.fqdn);
      const archived = new Set((await readdir(join(lab.dataDir, 'state/.archive')).catch(() => [] as string[])).map((a) => a.replace(/-\d{8}T\d{6}Z(-\d+)?$/, '')));
      const lost = [...deleted].filter((f) => !archived.has(f));
      t.check("every deleted node's state is archived", lost.length === 0, () => `not in state/.archive ${some(lost)}`);
      figures.added += adds.length;
      figures.deleted += dels.length;
      figures.toggled += toggles.length;
      t.note(`+${adds.length} nodes, ${toggles.length} toggled, -${dels.length}; killed during ${where}; ${v.nodes.length} nodes after restart; orphans ${k.orphans.map((o) => o.cmd.split(' ')[0]).join(',') || 'none'}`);
    }
    figures.exportfsRuns = lab.probe.runs();
  } finally {
    await lab.stop();
  }
  return t.report('apply', rounds, Math.round((Date.now() - t0) / 1000), figures, await lab.configFile().catch(() => null));
}
