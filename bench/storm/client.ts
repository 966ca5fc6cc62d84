/**
 * The storm's client process: every simulated node in one process (bench/storm/nodes.ts), run
 * inside the client namespace; the report goes to a JSON file.
 *
 *   node dist/bench/storm/client.js PLAN.json RESULT.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { storm, type ClientReport, type Plan } from './nodes.js';

async function main(): Promise<void> {
  const [planFile, outFile] = process.argv.slice(2);
  if (!planFile || !outFile) throw new Error('usage: client.js PLAN.json RESULT.json');
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
  // How late the clients' own event loop ran: a late loop delays ACKs and reads for every server alike.
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await storm(plan);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  lag.disable();
  const report: ClientReport = {
    ...result, wallMs, cpuSec: (cpu.user + cpu.system) / 1e6, maxRssKiB: process.resourceUsage().maxRSS,
    loopDelayMs: { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
  };
  writeFileSync(outFile, JSON.stringify(report));
  const failed = result.nodes.filter((n) => n.outcome === 'failed').length;
  process.stdout.write(`STORM done: ${result.nodes.length} nodes, ${failed} failed, ${(wallMs / 1000).toFixed(2)} s, client CPU ${report.cpuSec.toFixed(1)} s\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`client: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
