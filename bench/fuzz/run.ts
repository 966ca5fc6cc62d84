/**
 * The fuzz campaign (issue 14, "Proof"): random and mutated DHCP and TFTP datagrams against a
 * live `netroot serve`, while real clients boot from it, then a verdict on crashes, memory and
 * clients. bench/fuzz/campaign.ts is its command line; test/integration/fuzz runs a small one.
 *
 * The lab, all of it made here and deleted at the end (also on abort or failure):
 *   server namespace: va0 10.66.0.1/24; `node bin/netroot.js serve --config FILE` with DHCP in
 *     full mode on va0 (subnet, a dynamic pool .100-.199, registered nodes), TFTP on 10.66.0.1:69,
 *     HTTP boot on :8080, an image version pulled over SSH from a fixture golden root (an sshd on
 *     the namespace's loopback) and published, so the boot script and TFTP files are real;
 *   client namespace: vb0 with the registered node's MAC and address 10.66.0.10 (the real
 *     clients: udhcpc, tftp-hpa, curl) and 10.66.0.2-.9 (the sender's source addresses).
 * Network safety: 10.x addresses exist only inside these namespaces; nothing touches eth0 or the
 * root namespace.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, writeFileSync, mkdirSync, rmSync, mkdtempSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, type Ns } from '../../test/helpers/netns.js';
import { have, type Started } from '../../test/helpers/proc.js';
import { startNetroot, type Netroot } from '../../test/helpers/service.js';
import { startSshd, type TestSshd } from '../../test/integration/golden/sshd.js';
import { buildFixtureRoot } from '../../test/fixtures/golden/build-root.js';
import { clientRound, type ClientSetup } from './clients.js';
import { findProcess, loadAverage, sample, udpCounters, udpDrops, type ProcSample } from './proc.js';
import { heapSample, markdown, memoryVerdict, serviceCounters, tallyClients, verdict, type CampaignReport, type ClientResult, type HeapSample, type MemoryLimits } from './report.js';
import type { SenderOptions, SenderStats } from './sender.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SENDER = fileURLToPath(new URL('./sender.js', import.meta.url));

const NET = '10.66.0';
const SERVER = `${NET}.1`;
const HTTP_PORT = 8080;
/** The real client: a registered iPXE node; its MAC is the client interface's. */
const NODE = { mac: '02:66:00:00:00:0a', ipv4: `${NET}.10`, fqdn: 'real.fuzz.example' };
const PXELINUX_NODE = { mac: '02:66:00:00:00:0b', ipv4: `${NET}.11`, fqdn: 'pxe.fuzz.example' };

export interface CampaignOptions {
  datagrams: number;
  /** Datagrams a second the sender aims at. */
  rate: number;
  seed: number;
  /** Pause between client rounds during the flood. */
  clientIntervalMs: number;
  /** Client rounds after the flood. */
  afterRounds: number;
  /** Limits of the "flat" rule (report.ts memoryVerdict). */
  memory: MemoryLimits;
  /** Source addresses the sender uses (1-8). */
  sources: number;
  /** Extra environment of the service (e.g. MALLOC_ARENA_MAX=1, NODE_OPTIONS=...): to compare runs. */
  serviceEnv: Record<string, string>;
  /** Which protocols to fuzz (both by default; one alone helps to tell which one a finding is in). */
  protocols: ('dhcp' | 'tftp')[];
  /** Keep the temp dir (service log, data dir) and print where it is. */
  keep: boolean;
  command: string;
  log: (line: string) => void;
  signal?: AbortSignal;
}

export const DEFAULTS: Omit<CampaignOptions, 'command' | 'log'> = {
  datagrams: 1_000_000, rate: 10_000, seed: 14, clientIntervalMs: 3000, afterRounds: 5, memory: { sinceWarmMiB: 64, lastHalfMiB: 32 }, sources: 8, protocols: ['dhcp', 'tftp'], serviceEnv: {}, keep: false,
};

export class Aborted extends Error {
  constructor() {
    super('fuzz campaign aborted');
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const sha256File = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** The service's log, from its start on, goes to a file with counts kept: the test helper would keep all of it in memory. */
function followLog(nr: Netroot, path: string) {
  const file = createWriteStream(path, { flags: 'a' });
  file.write(nr.proc.output());
  const state = { errorLines: 0, errorExamples: [] as string[], warn: {} as Record<string, number> };
  let rest = '';
  const onData = (d: Buffer) => {
    file.write(d);
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop()!;
    for (const l of lines) {
      const m = /^\{"level":(\d+)/.exec(l);
      if (!m) continue;
      const level = Number(m[1]);
      if (level >= 50) {
        state.errorLines++;
        if (state.errorExamples.length < 10) state.errorExamples.push(l.slice(0, 600));
      } else if (level === 40) {
        const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(l)?.[1] ?? '?';
        state.warn[msg] = (state.warn[msg] ?? 0) + 1;
      }
    }
  };
  for (const s of [nr.proc.child.stdout, nr.proc.child.stderr]) {
    s?.removeAllListeners('data');
    s?.on('data', onData);
  }
  let closed: Promise<void> | null = null;
  return { state, close: () => (closed ??= new Promise<void>((r) => file.end(r))) };
}

interface Answer {
  status?: number;
  code?: number;
  body?: any;
  stdout?: string;
  stderr?: string;
}

/** An API call (status < 300) or a CLI run (exit 0) that set-up needs: anything else stops the campaign. */
async function must<T extends Answer>(what: string, p: Promise<T>): Promise<T> {
  const r = await p;
  const ok = r.status !== undefined ? r.status < 300 : r.code === 0;
  if (!ok) throw new Error(`${what} failed: ${JSON.stringify(r.body ?? r.stderr ?? r).slice(0, 600)}`);
  return r;
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignReport> {
  if (process.getuid?.() !== 0) throw new Error('the fuzz campaign needs root (network namespaces)');
  for (const tool of ['ip', 'udhcpc', 'tftp', 'curl', 'rsync', '/usr/sbin/sshd']) {
    if (!(await have(tool))) throw new Error(`${tool} is not installed (scripts/deps/dhcp.txt, tftp.txt, golden.txt)`);
  }
  if (!(o.sources >= 1 && o.sources <= 8)) throw new Error('sources: 1..8');
  const startedAt = new Date().toISOString();
  const log = o.log;
  const tmp = mkdtempSync(join(tmpdir(), 'netroot-fuzz-'));
  let lab: Lab | null = null;
  let nr: Netroot | null = null;
  let sshd: TestSshd | null = null;
  let sender: Started | null = null;
  let sampler: NodeJS.Timeout | null = null;
  let serviceLog: ReturnType<typeof followLog> | null = null;
  // Stops the /metrics scraper (at the end, on abort, on failure).
  const scrapeStop = new AbortController();
  const aborted = () => {
    if (o.signal?.aborted) throw new Aborted();
  };
  try {
    // The lab.
    lab = await Lab.create('fuzz');
    const srv = await lab.ns('srv');
    const cli = await lab.ns('cli');
    await lab.link(srv, `${SERVER}/24`, cli, `${NODE.ipv4}/24`);
    await cli.run(['ip', 'link', 'set', 'vb0', 'address', NODE.mac]);
    const sources = Array.from({ length: o.sources }, (_, i) => `${NET}.${2 + i}`);
    for (const a of sources) await cli.run(['ip', 'addr', 'add', `${a}/24`, 'dev', 'vb0']);
    log(`lab: namespaces ${srv.name} (${SERVER}) and ${cli.name} (${NODE.ipv4}, sender ${sources[0]}-${sources.at(-1)})`);
    aborted();

    // The service, as a user runs it, with a published image.
    const fixture = join(tmp, 'golden-root');
    await buildFixtureRoot(fixture);
    const dataDir = join(tmp, 'data');
    mkdirSync(join(dataDir, 'tftp'), { recursive: true });
    writeFileSync(join(dataDir, 'tftp', 'static.bin'), createHash('sha512').update('netroot fuzz').digest().toString('hex').repeat(2048));
    const wrap = ['ip', 'netns', 'exec', srv.name];
    nr = await startNetroot({
      dataDir,
      wrap,
      env: o.serviceEnv,
      config: {
        http: { listen: '0.0.0.0', port: HTTP_PORT },
        boot: { serverAddress: SERVER },
        tftp: { enabled: true, listen: SERVER, port: 69 },
        dhcp: {
          interfaces: ['va0'],
          mode: 'full',
          subnets: [{ cidr: `${NET}.0/24`, router: SERVER, dns: [SERVER], domain: 'fuzz.example', pool: { start: `${NET}.100`, end: `${NET}.199` } }],
          // No rival probe at start: the lab has no other DHCP server, and it would cost 5 s.
          detectRivalsAtStart: false,
        },
        images: { keep: 1, dracut: join(fixture, 'usr/bin/dracut'), lsinitrd: join(fixture, 'usr/bin/lsinitrd') },
      },
    });
    serviceLog = followLog(nr, join(tmp, 'service.log'));
    const pid = findProcess(nr.proc.pid, /bin\/netroot\.js serve/);
    if (pid === null) throw new Error(`cannot find the netroot process under pid ${nr.proc.pid}`);
    const config = JSON.parse(readFileSync(nr.configPath, 'utf8'));
    log(`service: pid ${pid}, ${nr.url} in ${srv.name}, config ${nr.configPath}`);
    aborted();

    sshd = await startSshd(join(tmp, 'sshd'), (await nr.api('GET', '/ssh/key')).body.publicKey, { wrap });
    const add = await must('golden add', nr.cli(['golden', 'add', 'g1', '--address', '127.0.0.1', '--port', String(sshd.port), '--source', fixture, '--json']));
    await must('golden pin', nr.cli(['golden', 'pin', 'g1', '--fingerprint', JSON.parse(add.stdout!).fingerprint]));
    await must('image create', nr.api('POST', '/images', { name: 'fixture', host: 'g1' }));
    const pull = await must('image pull', nr.cli(['image', 'pull', 'fixture', '--wait', '--json']));
    const version = JSON.parse(pull.stdout!).result.version as string;
    await must('image publish', nr.cli(['image', 'publish', 'fixture', version]));
    await must('register the real node', nr.api('POST', '/nodes', { ...NODE, image: 'fixture' }));
    await must('register a pxelinux node', nr.api('POST', '/nodes', { ...PXELINUX_NODE, image: 'fixture', bootMode: 'pxelinux' }));
    // A node at the sender's first address (its TFTP requests land on a timeline), and a disabled one.
    await must('register a node at a sender address', nr.api('POST', '/nodes', { mac: '02:66:00:00:00:02', ipv4: sources[0], fqdn: 'noisy.fuzz.example' }));
    await must('register a disabled node', nr.api('POST', '/nodes', { mac: '02:66:00:00:00:0d', ipv4: `${NET}.13`, fqdn: 'off.fuzz.example', image: 'fixture', enabled: false }));
    log(`image fixture/${version} published; 4 nodes registered`);
    aborted();

    // What real clients must get.
    const loaders = (await nr.api('GET', '/loaders')).body as { found: { name: string; path: string }[] };
    const undionly = loaders.found.find((l) => l.name === 'undionly.kpxe');
    if (!undionly) throw new Error('undionly.kpxe not found: install the ipxe package');
    const dashed = PXELINUX_NODE.mac.replace(/:/g, '-');
    const kernelUrl = `http://${SERVER}:${HTTP_PORT}/boot/${NODE.mac}/${version}/vmlinuz`;
    const clientDir = join(tmp, 'clients');
    mkdirSync(clientDir);
    const udhcpcScript = join(clientDir, 'udhcpc.sh');
    writeFileSync(udhcpcScript, '#!/bin/sh\necho "UDHCPC $1 ip=$ip siaddr=$siaddr boot_file=$boot_file hostname=$hostname "\n');
    chmodSync(udhcpcScript, 0o755);
    const clients: ClientSetup = {
      ns: cli, ifname: 'vb0', ip: NODE.ipv4, server: SERVER, dir: clientDir, udhcpcScript,
      tftp: { file: 'undionly.kpxe', sha256: sha256File(undionly.path) },
      http: {
        scriptUrl: `http://${SERVER}:${HTTP_PORT}/boot/${NODE.mac}.ipxe`,
        mustContain: ['#!ipxe', `kernel ${kernelUrl} `, `netroot.fqdn=${NODE.fqdn}`],
        kernelUrl,
        kernelSha256: sha256File(join(dataDir, 'images', 'fixture', version, 'boot', 'vmlinuz')),
      },
    };
    const results: ClientResult[] = [];
    const round = async (phase: ClientResult['phase']) => {
      const r = await clientRound(clients, phase, results.length / 3 + 1);
      results.push(...r);
      for (const x of r) if (!x.ok) log(`client ${x.kind} (${phase}) failed: ${x.detail}`);
      return r;
    };
    // A round before the flood: the lab itself works (a failure here is a set-up problem).
    const first = await round('before');
    if (first.some((r) => !r.ok)) throw new Error(`real clients fail before the flood: ${first.filter((r) => !r.ok).map((r) => r.detail).join('; ')}`);
    log('clients: udhcpc, tftp-hpa and curl served before the flood');
    aborted();

    // Sampling: RSS and CPU of the service every second, from now to the end.
    const t0 = Date.now();
    const samples: ProcSample[] = [];
    const take = () => {
      const s = sample(pid, Date.now() - t0);
      if (s) samples.push(s);
    };
    take();
    sampler = setInterval(take, 1000);
    // And the service's own view (JS heap vs. the rest) every 10 s, one scrape at a time.
    const heap: HeapSample[] = [];
    o.signal?.addEventListener('abort', () => scrapeStop.abort(), { once: true });
    const scrape = async () => {
      const m = await nr!.api('GET', '/metrics', undefined, null).catch(() => null);
      const h = typeof m?.body === 'string' ? heapSample(m.body, Date.now() - t0) : null;
      if (h) heap.push(h);
    };
    const scraper = (async () => {
      while (!scrapeStop.signal.aborted) {
        await scrape();
        await sleep(10_000, scrapeStop.signal);
      }
    })();
    await sleep(2000, o.signal);
    aborted();

    // The flood.
    const udpBefore = udpCounters(pid);
    const loadStart = loadAverage();
    const senderOptions: SenderOptions = {
      server: SERVER, sources, socketsPerSource: 4, count: o.datagrams, rate: o.rate, seed: o.seed, protocols: o.protocols,
      dhcpFixtures: join(ROOT, 'test/fixtures/dhcp'), tftpFixtures: join(ROOT, 'test/fixtures/tftp'),
      files: ['undionly.kpxe', 'ipxe.efi', 'snponly.efi', 'pxelinux.0', 'static.bin', `pxelinux.cfg/01-${dashed}`, `boot/01-${dashed}/${version}/vmlinuz`, `boot/01-${dashed}/${version}/initrd.img`, 'boot.ipxe'],
    };
    sender = cli.start([process.execPath, SENDER, JSON.stringify(senderOptions)]);
    await sender.waitFor(/^READY$/m, 20_000);
    const floodStart = Date.now() - t0;
    log(`flood: ${o.datagrams.toLocaleString('en-US')} datagrams at ${o.rate.toLocaleString('en-US')}/s (seed ${o.seed})`);
    let senderDone = false;
    let floodEnd = 0;
    const senderExit = sender.exited.then((code) => {
      senderDone = true;
      floodEnd = Date.now() - t0;
      return code;
    });
    const onAbort = () => void sender?.stop();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    let lastProgress = 0;
    while (!senderDone && !o.signal?.aborted) {
      await round('during');
      const p = [...sender.output().matchAll(/^PROGRESS (.*)$/gm)].at(-1)?.[1];
      if (p && Date.now() - lastProgress > 10_000) {
        lastProgress = Date.now();
        const s = samples.at(-1);
        log(`  sent ${JSON.parse(p).sent.toLocaleString('en-US')}, service RSS ${s ? Math.round(s.rssKiB / 1024) : '?'} MiB`);
      }
      await Promise.race([sleep(o.clientIntervalMs, o.signal), senderExit]);
    }
    const senderCode = await senderExit;
    o.signal?.removeEventListener('abort', onAbort);
    aborted();
    const done = /^DONE (.*)$/m.exec(sender.output());
    if (!done) throw new Error(`the sender failed (exit ${senderCode}): ${sender.output().slice(-2000)}`);
    const stats = JSON.parse(done[1]!) as SenderStats;
    const udpAfter = udpCounters(pid);
    const drops = udpDrops(pid);
    log(`flood done: ${stats.sent.toLocaleString('en-US')} sent in ${(stats.elapsedMs / 1000).toFixed(1)} s (${stats.rate}/s)`);

    // After the flood: the clients again, then a last look at the service.
    for (let i = 0; i < o.afterRounds && !o.signal?.aborted; i++) {
      await round('after');
      await sleep(1000, o.signal);
    }
    aborted();
    scrapeStop.abort();
    await scraper;
    await scrape();
    take();
    clearInterval(sampler);
    sampler = null;
    const alive = nr.proc.child.exitCode === null && nr.proc.child.signalCode === null && sample(pid, 0) !== null;
    const metrics = alive ? await nr.api('GET', '/metrics', undefined, null) : null;
    const dhcpCounters = alive ? await nr.api('GET', '/dhcp/counters') : null;
    const loadEnd = loadAverage();
    const exitCode = alive ? await nr.stop() : nr.proc.child.exitCode;
    await serviceLog.close();

    const cpu = (a: ProcSample | undefined, b: ProcSample | undefined) => (a && b ? b.cpuSeconds - a.cpuSeconds : 0);
    const inFlood = samples.filter((s) => s.t >= floodStart && s.t <= floodEnd);
    let peakPct = 0;
    for (let i = 1; i < inFlood.length; i++) peakPct = Math.max(peakPct, (100 * cpu(inFlood[i - 1], inFlood[i]) * 1000) / Math.max(1, inFlood[i]!.t - inFlood[i - 1]!.t));
    const byProtocol: Record<string, number> = {};
    for (const [k, v] of Object.entries(stats.byKind)) byProtocol[k.split('.')[0]!] = (byProtocol[k.split('.')[0]!] ?? 0) + v;
    const kernelUdp = Object.fromEntries(Object.entries(udpAfter).map(([k, v]) => [k, v - (udpBefore[k] ?? 0)]));
    const partial: Omit<CampaignReport, 'pass' | 'reasons'> = {
      startedAt,
      finishedAt: new Date().toISOString(),
      command: o.command,
      seed: o.seed,
      lab: { server: `${SERVER} (va0, ${srv.name})`, client: `${NODE.ipv4} ${NODE.mac} (vb0, ${cli.name})`, senderSources: sources, image: `fixture/${version}` },
      config,
      sender: {
        requested: o.datagrams, requestedRate: o.rate, sent: stats.sent, durationSec: Math.round(stats.elapsedMs / 100) / 10, achievedRate: stats.rate,
        byProtocol, byTarget: stats.byTarget, byKind: stats.byKind, sendErrors: stats.sendErrors, replies: stats.replies,
        tftpLivePorts: stats.livePorts, tftpLiveSent: stats.liveSent, tftpDataBytes: stats.tftpDataBytes, queueWaits: stats.queueWaits, cpuSeconds: stats.cpuSeconds,
      },
      kernelUdp,
      socketDrops: { dhcp: drops[67] ?? 0, tftp: drops[69] ?? 0 },
      service: {
        pid, alive, crashes: alive ? 0 : 1, exitCode: exitCode ?? null,
        memory: memoryVerdict(samples, floodStart, floodEnd, o.memory),
        cpuSeconds: Math.round(cpu(samples[0], samples.at(-1)) * 10) / 10,
        cpuAvgPct: Math.round((100 * cpu(inFlood[0], inFlood.at(-1)) * 1000) / Math.max(1, (inFlood.at(-1)?.t ?? 1) - (inFlood[0]?.t ?? 0))),
        cpuPeakPct: Math.round(peakPct),
        errorLines: serviceLog.state.errorLines, errorExamples: serviceLog.state.errorExamples, warnLines: serviceLog.state.warn,
        counters: serviceCounters(typeof metrics?.body === 'string' ? metrics.body : '', dhcpCounters?.body),
      },
      clients: { tally: tallyClients(results), failures: results.filter((r) => !r.ok) },
      loadAverage: { start: loadStart, end: loadEnd },
      samples,
      heap,
    };
    return { ...partial, ...verdict(partial) };
  } finally {
    scrapeStop.abort();
    if (sampler) clearInterval(sampler);
    await sender?.stop().catch(() => undefined);
    await nr?.stop().catch(() => undefined);
    await serviceLog?.close();
    await sshd?.stop().catch(() => undefined);
    await lab?.destroy();
    if (o.keep) log(`kept ${tmp} (service.log, data/)`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

export { markdown };
