/**
 * Import phase: each round imports 500-1,000 new nodes in one request (POST /api/v1/nodes/import)
 * and kills the service at a random moment inside the request or in the repair after it (state
 * directories made by the reconciler, then the export table applied). After the restart has
 * settled, every node the registry holds must have its state directory and its exports (file and
 * etab), each round's import must be there whole or not at all (a 201 answer: whole), and nothing
 * half-made may be left.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tally, type PhaseReport } from './checks.js';
import { Lab, rand, sleep } from './lab.js';
import { checkNfsAgrees } from './nfs-checks.js';

const NETWORKS = ['10.60.0.0/16'];

function nodesOf(round: number, n: number) {
  const hex = (x: number) => x.toString(16).padStart(2, '0');
  return Array.from({ length: n }, (_, i) => {
    // 1,000 addresses per round: unique across 20 rounds inside 10.60.0.0/16, never .0 or .255.
    const k = round * 1000 + i;
    const ip = `10.60.${Math.floor(k / 250)}.${(k % 250) + 1}`;
    return { mac: `02:61:00:${hex(k >> 16)}:${hex((k >> 8) & 255)}:${hex(k & 255)}`, fqdn: `n${k}.r${round}.import.test`, ipv4: ip };
  });
}

export async function importPhase(rounds: number): Promise<PhaseReport> {
  const t0 = Date.now();
  const t = new Tally();
  const lab = await Lab.create({ name: 'import', exportfsDelayMs: 0, nodeNetworks: NETWORKS });
  const sizes: number[] = [];
  const committed: boolean[] = [];
  let importMs = 0;
  try {
    await lab.start();
    for (let round = 1; round <= rounds; round++) {
      t.round = round;
      if (!lab.nr) await lab.start();
      const size = rand(500, 1000);
      sizes[round] = size;
      // How long an import takes here, from the rounds before (the first: a guess).
      const spanMs = importMs || 1500;
      const inside = Math.random() < 0.6;
      const delay = inside ? rand(0, Math.round(spanMs * 1.2)) : spanMs + rand(0, 2500);
      const sent = Date.now();
      const got: { answer: number | 'none' } = { answer: 'none' };
      const req = lab.api('POST', '/nodes/import', nodesOf(round, size)).then(
        (r) => {
          got.answer = r.status;
          if (r.status === 201) importMs = Date.now() - sent;
        },
        () => undefined,
      );
      await sleep(delay);
      const nodesAtKill = existsSync(join(lab.dataDir, 'state')) ? readdirSync(join(lab.dataDir, 'state')).filter((n) => !n.startsWith('.')).length : 0;
      const k = await lab.kill();
      await req;
      const answer = got.answer;
      const before = sizes.reduce((s, n, r) => s + (committed[r] ? n : 0), 0);
      t.check('the service was running at the kill', k.wasRunning);
      let where: string;
      if (answer === 'none') where = 'inside the import request';
      else if (nodesAtKill < before + size) where = 'after the answer: reconciler making state dirs';
      else if (k.exportfs.length) where = 'after the answer: exportfs applying';
      else where = 'after the answer: dirs made, apply pending or done';

      await lab.start();
      await lab.nfsSettled();
      const orphans = await lab.reapOrphans(60_000);
      t.check('children of the killed service ended by themselves', orphans.length === 0, () => JSON.stringify(orphans));
      // A pass after the orphans ended: what they may have written is compared too.
      const v = await checkNfsAgrees(lab, t, NETWORKS);
      const mine = v.nodes.filter((n) => n.fqdn.endsWith(`.r${round}.import.test`)).length;
      t.check('an import is committed whole or not at all', mine === 0 || mine === size, () => `${mine} of ${size} nodes of round ${round}`);
      if (answer === 201) t.check('an import answered 201 is committed', mine === size, () => `${mine} of ${size}`);
      if (typeof answer === 'number' && answer !== 201) t.check('an import answered with an error is not committed', mine === 0, () => `answer ${answer}, ${mine} committed`);
      committed[round] = mine === size;
      const total = sizes.reduce((s, n, r) => s + (committed[r] ? n : 0), 0);
      t.check('registry = the committed imports, nothing else', v.nodes.length === total, () => `${v.nodes.length} nodes, committed rounds sum to ${total}`);
      const step = answer === 'none' ? `${where} (${mine ? 'committed' : 'not committed'})` : where;
      t.kill(step);
      t.note(`${size} nodes, killed after ${delay} ms: ${step}; answer ${answer}; ${nodesAtKill} state dirs at the kill, ${v.nodes.length} nodes after restart; orphans ${k.orphans.length}`);
    }
  } finally {
    await lab.stop();
  }
  const done = committed.filter(Boolean).length;
  return t.report('import', rounds, Math.round((Date.now() - t0) / 1000), {
    committedRounds: done,
    notCommittedRounds: rounds - done,
    nodesCommitted: sizes.reduce((s, n, r) => s + (committed[r] ? n : 0), 0),
    nodesSent: sizes.reduce((s, n) => s + (n ?? 0), 0),
    lastImportMs: importMs,
  }, await lab.configFile().catch(() => null));
}
