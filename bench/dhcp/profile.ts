/**
 * Where a netroot server's CPU time went, from a V8 .cpuprofile (node --cpu-prof; the benches
 * pass node options to `netroot serve` with --node-arg=--cpu-prof --node-arg=--cpu-prof-dir=DIR,
 * and netroot writes the profile when it stops on SIGTERM):
 *
 *   node dist/bench/dhcp/profile.js DIR/CPU.<...>.cpuprofile [top=25]
 *
 * Prints self time by function and by file (dist paths, node internals, native), and the total
 * time below (inclusive) each netroot function, so a cost is visible where it is caused.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile.js FILE.cpuprofile [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const short = (url: string) => url.replace(/^file:\/\/.*?\/dist\//, '').replace(/^node:/, 'node:') || '(native)';
const fnKey = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const selfByFn = new Map<string, number>();
const selfByFile = new Map<string, number>();
const incl = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  selfByFn.set(fnKey(n), (selfByFn.get(fnKey(n)) ?? 0) + t);
  const f = short(n.callFrame.url);
  selfByFile.set(f, (selfByFile.get(f) ?? 0) + t);
  // Inclusive: charge each distinct project function on the stack once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const c = byId.get(cur)!;
    if (!/\/dist\/(pxe|server|bench)\//.test(c.callFrame.url)) continue;
    const k = fnKey(c);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + t);
  }
}

const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)} %`;
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n## ${title}`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
print('self time by function', selfByFn);
print('self time by file', selfByFile);
print('inclusive time of netroot functions', incl);
