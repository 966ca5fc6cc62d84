/**
 * Fault campaign (not a test: minutes long, needs root): the real service, killed with SIGKILL at
 * random moments of a node import, of export-table applies and of image pulls, restarted on the
 * same data dir, then checked: do registry, state directories, export table (file and exportfs's
 * etab) and image versions agree, with nothing half-done left behind?
 *
 * Run: npm run build && node dist/bench/faults/campaign.js [--rounds N] [--phase import|apply|pull|all] [--json FILE]
 * Exit status 1 on any disagreement. Figures and what each check means: bench/README.md,
 * "Fault campaign".
 */
import { writeFileSync } from 'node:fs';
import { applyPhase } from './apply.js';
import type { PhaseReport } from './checks.js';
import { importPhase } from './import.js';
import { abort, cleanupAll } from './lab.js';
import { pullPhase } from './pull.js';

const PHASES = { import: importPhase, apply: applyPhase, pull: pullPhase } as const;
type Phase = keyof typeof PHASES;

function parseArgs(argv: string[]): { rounds: number; phases: Phase[]; json: string | null } {
  let rounds = 20;
  let phase = 'all';
  let json: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--rounds') rounds = Number(value());
    else if (flag === '--phase') phase = value();
    else if (flag === '--json') json = value();
    else throw new Error(`unknown argument ${a}; usage: campaign.js [--rounds N] [--phase import|apply|pull|all] [--json FILE]`);
  }
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds: a whole number >= 1');
  if (phase !== 'all' && !(phase in PHASES)) throw new Error('--phase: import, apply, pull or all');
  if (json === '') throw new Error('--json: a file name');
  return { rounds, phases: phase === 'all' ? (Object.keys(PHASES) as Phase[]) : [phase as Phase], json };
}

function print(r: PhaseReport): void {
  const m = Math.floor(r.seconds / 60);
  console.log(`\n== ${r.phase}: ${r.rounds} rounds in ${m}m${String(r.seconds % 60).padStart(2, '0')}s; checks ${r.passed} passed, ${r.failed} failed`);
  console.log('config:', JSON.stringify(r.config));
  console.log('kills by step:');
  for (const [step, n] of Object.entries(r.killsByStep)) console.log(`  ${String(n).padStart(3)}  ${step}`);
  console.log('checks (passed/failed):');
  for (const [name, c] of Object.entries(r.checks)) {
    console.log(`  ${String(c.passed).padStart(4)}/${c.failed}${c.failed ? ' FAILED' : ''}  ${name}`);
    if (c.last) console.log(`           last: round ${c.last.round}: ${c.last.detail}`);
  }
  console.log('figures:', JSON.stringify(r.figures));
  if (r.firstFailures.length) {
    console.log('first failures:');
    for (const f of r.firstFailures) console.log(`  round ${f.round}: ${f.check}: ${f.detail}`);
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('needs root: mount namespaces for the exportfs sandbox, sshd for the golden host');
  const reports: PhaseReport[] = [];
  const started = new Date().toISOString();
  let problems: string[] = [];
  let error: unknown = null;
  try {
    for (const p of args.phases) {
      console.log(`\n== ${p}: ${args.rounds} rounds`);
      reports.push(await PHASES[p](args.rounds));
      print(reports[reports.length - 1]!);
    }
  } catch (e) {
    error = e;
  } finally {
    problems = await cleanupAll();
  }
  if (error) console.error(`\ncampaign stopped: ${error instanceof Error ? error.stack : String(error)}`);
  for (const p of problems) console.error(`cleanup: ${p}`);
  const failed = reports.reduce((s, r) => s + r.failed, 0);
  if (args.json) writeFileSync(args.json, `${JSON.stringify({ started, finished: new Date().toISOString(), args, reports, cleanupProblems: problems, error: error ? String(error) : null }, null, 2)}\n`);
  console.log(`\n${failed === 0 && !error && !problems.length ? 'ALL AGREE' : 'DISAGREEMENT'}: ${reports.map((r) => `${r.phase} ${r.passed}/${r.passed + r.failed}`).join(', ')}`);
  return failed === 0 && !error && !problems.length ? 0 : 1;
}

// Ctrl-C or SIGTERM: the same cleanup (services stopped, orphans ended, temp dirs removed).
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    abort();
    console.error(`\n${sig}: cleaning up`);
    void cleanupAll().then((problems) => {
      for (const p of problems) console.error(`cleanup: ${p}`);
      process.exit(130);
    });
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    for (const p of await cleanupAll()) console.error(`cleanup: ${p}`);
    process.exitCode = 2;
  },
);
