/**
 * Fuzz campaign (issue 14): a million random and mutated DHCP and TFTP datagrams against a live
 * `netroot serve` in a network namespace, real clients served during and after, memory sampled.
 * What it builds and checks: bench/fuzz/run.ts; results: bench/README.md, "Fuzz campaign".
 *
 *   npm run build && node dist/bench/fuzz/campaign.js [options]
 *
 *   --datagrams N         datagrams to send (1,000,000)
 *   --rate PPS            datagrams a second the sender aims at (10,000)
 *   --seed N              the generator's seed: the same seed sends the same datagrams (14)
 *   --json FILE           the report as JSON to FILE (default: stdout, before the table)
 *   --rss-limit MIB       "flat": RSS at the end <= RSS after warm-up + MIB (64)
 *   --growth-limit MIB    "flat": RSS growth over the second half of the flood <= MIB (32)
 *   --after-rounds N      client rounds after the flood (5)
 *   --client-interval MS  pause between client rounds during the flood (3000)
 *   --sources N           sender source addresses, 1-8 (8)
 *   --protocols LIST      dhcp, tftp or dhcp,tftp (both)
 *   --service-env K=V     extra environment for the service, repeatable (e.g. MALLOC_ARENA_MAX=1)
 *   --keep                keep the temp dir (service log, data dir) and say where
 *
 * Root; needs ip, udhcpc, tftp-hpa, curl, rsync, sshd (scripts/deps). Prints progress on stderr,
 * then the report as JSON and a markdown table on stdout. Exit code 0: pass; 1: a pass condition
 * failed (the service died, a client failed after the flood, a client kind was never served
 * during it, memory not flat, errors in the service log); 2: the campaign itself could not run;
 * 130: interrupted (namespaces and temp files are removed first).
 */
import { writeFileSync } from 'node:fs';
import { Aborted, DEFAULTS, markdown, runCampaign, type CampaignOptions } from './run.js';

function parse(argv: string[]): Omit<CampaignOptions, 'log' | 'command'> & { json: string } {
  const o = { ...DEFAULTS, json: '' };
  const num = (name: string, v: string | undefined, min: number, max: number) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min || x > max) throw new Error(`--${name}: an integer in ${min}..${max}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), undefined];
    const value = () => inline ?? argv[++i];
    switch (name) {
      case 'datagrams': o.datagrams = num(name, value(), 1, 100_000_000); break;
      case 'rate': o.rate = num(name, value(), 1, 1_000_000); break;
      case 'seed': o.seed = num(name, value(), 0, 0xffffffff); break;
      case 'rss-limit': o.memory = { ...o.memory, sinceWarmMiB: num(name, value(), 1, 4096) }; break;
      case 'growth-limit': o.memory = { ...o.memory, lastHalfMiB: num(name, value(), 1, 4096) }; break;
      case 'after-rounds': o.afterRounds = num(name, value(), 1, 100); break;
      case 'client-interval': o.clientIntervalMs = num(name, value(), 0, 600_000); break;
      case 'sources': o.sources = num(name, value(), 1, 8); break;
      case 'json': o.json = value() ?? ''; break;
      case 'protocols': {
        const p = (value() ?? '').split(',');
        if (!p.length || p.some((x) => x !== 'dhcp' && x !== 'tftp')) throw new Error('--protocols: dhcp, tftp or dhcp,tftp');
        o.protocols = [...new Set(p)] as ('dhcp' | 'tftp')[];
        break;
      }
      case 'service-env': {
        const kv = value() ?? '';
        const eq = kv.indexOf('=');
        if (eq < 1) throw new Error('--service-env: NAME=VALUE');
        o.serviceEnv = { ...o.serviceEnv, [kv.slice(0, eq)]: kv.slice(eq + 1) };
        break;
      }
      case 'keep': o.keep = true; break;
      default: throw new Error(`unknown option ${a} (see the header of bench/fuzz/campaign.ts)`);
    }
  }
  return o;
}

async function main(): Promise<number> {
  let opts;
  try {
    opts = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: string) => {
    if (++interrupts > 1) {
      process.stderr.write('interrupted twice: exiting without clean-up (ip netns list | grep nrfuzz)\n');
      process.exit(130);
    }
    process.stderr.write(`${sig}: stopping, removing namespaces and temp files...\n`);
    ac.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const command = `node dist/bench/fuzz/campaign.js ${process.argv.slice(2).join(' ')}`.trim();
  try {
    const report = await runCampaign({ ...opts, command, log: (l) => process.stderr.write(`${l}\n`), signal: ac.signal });
    const json = JSON.stringify(report, null, 2);
    if (opts.json) writeFileSync(opts.json, `${json}\n`);
    else process.stdout.write(`${json}\n`);
    process.stdout.write(`\n${markdown(report)}\n`);
    return report.pass ? 0 : 1;
  } catch (e) {
    // Ctrl-C reaches the children too (one process group): whatever step failed, it was stopped.
    if (e instanceof Aborted || ac.signal.aborted) {
      process.stderr.write('stopped: namespaces and temp files removed\n');
      return 130;
    }
    process.stderr.write(`fuzz campaign could not run: ${(e as Error).stack ?? String(e)}\n`);
    return 2;
  }
}

process.exitCode = await main();
