/**
 * Starts the real netroot service (bin/netroot.js serve) as a subprocess on a temp data dir and a
 * free port, reads the first admin token from the file it names, and runs the CLI against it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { start, type Started } from './proc.js';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const BIN = join(ROOT, 'bin/netroot.js');

export interface Netroot {
  url: string;
  /** The admin token written at first start (empty on a restart of an existing data dir). */
  token: string;
  dataDir: string;
  configPath: string;
  proc: Started;
  stop(): Promise<number | null>;
  /** Moves the service's fixed clock (started with the `clock` option); resolves once it reads the new time. */
  setClock(at: Date | string): Promise<void>;
  /** Calls the API with a token (admin by default). */
  api(method: string, path: string, body?: unknown, token?: string | null, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  cli(args: string[], opts?: { token?: string; input?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface StartNetrootOptions {
  dataDir?: string;
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Command prefix (e.g. ['ip','netns','exec',ns]) to run netroot inside a namespace. */
  wrap?: string[];
  /**
   * Runs the service with a fixed clock (test/helpers/clock.ts) that reads this time until
   * setClock() moves it: times the service records and shows are the same on every run.
   */
  clock?: Date | string;
}

/** The preload that fixes the service's clock, with its start time in the URL. */
function clockPreload(at: Date | string): string {
  const url = new URL('./fixed-clock.js', import.meta.url);
  url.searchParams.set('at', new Date(at).toISOString());
  return url.href;
}

export async function startNetroot(o: StartNetrootOptions = {}): Promise<Netroot> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'netroot-test-'));
  mkdirSync(dataDir, { recursive: true });
  const configPath = join(dataDir, 'netroot.json');
  writeFileSync(configPath, JSON.stringify({ dataDir, http: { listen: '127.0.0.1', port: 0 }, log: { level: 'info' }, ...o.config }, null, 2));
  if (o.clock !== undefined && o.wrap) throw new Error('startNetroot: clock and wrap together are not supported (the clock is moved over an IPC channel)');
  const node = o.clock !== undefined ? [process.execPath, '--import', clockPreload(o.clock)] : [process.execPath];
  const argv = [...(o.wrap ?? []), ...node, BIN, 'serve', '--config', configPath];
  const proc = start(argv[0]!, argv.slice(1), {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...o.env },
    ...(o.clock !== undefined ? { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] } : {}),
  });
  const m = await proc.waitFor(/"url":"(http:\/\/[^"]+)"[^\n]*"msg":"netroot started"/, 20000);
  const url = m[1]!;
  // Only this start's token: the file stays from the first start of a data dir.
  const tok = /initial admin API token written to (\S+) /.exec(proc.output());
  const token = tok ? readFileSync(tok[1]!, 'utf8').trim() : '';
  const self: Netroot = {
    url,
    token,
    dataDir,
    configPath,
    proc,
    stop: () => proc.stop(),
    setClock(at) {
      const child = proc.child;
      if (o.clock === undefined || !child.send) return Promise.reject(new Error('setClock: start the service with the clock option'));
      const iso = new Date(at).toISOString();
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`setClock(${iso}): the service has exited; output:\n${proc.output()}`));
      return new Promise<void>((resolve, reject) => {
        const onMessage = (m: unknown) => {
          if ((m as { fixedClock?: unknown } | null)?.fixedClock !== iso) return;
          done();
          resolve();
        };
        const onExit = () => {
          done();
          reject(new Error(`setClock(${iso}): the service exited; output:\n${proc.output()}`));
        };
        const done = () => {
          child.off('message', onMessage);
          child.off('exit', onExit);
        };
        child.on('message', onMessage);
        child.on('exit', onExit);
        child.send({ fixedClock: iso }, (err) => {
          if (!err) return;
          done();
          reject(new Error(`setClock(${iso}): ${err.message}`));
        });
      });
    },
    async api(method, path, body, tk = token, headers = {}) {
      const full = `${url}${path.startsWith('/api') || path.startsWith('/boot') || path.startsWith('/metrics') ? '' : '/api/v1'}${path}`;
      if (o.wrap) return curlApi(o.wrap, method, full, body, tk, headers);
      const res = await fetch(full, {
        method,
        headers: {
          ...(tk ? { authorization: `Bearer ${tk}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    cli(args, opts = {}) {
      return new Promise((resolveP) => {
        const argv = [...(o.wrap ?? []), process.execPath, BIN, ...args];
        const child = execFile(
          argv[0]!,
          argv.slice(1),
          { env: { PATH: process.env.PATH, NETROOT_URL: url, NETROOT_TOKEN: opts.token ?? token }, timeout: 30000 },
          (err, stdout, stderr) => {
            const code = err ? ((err as { code?: unknown }).code as number) ?? 1 : 0;
            resolveP({ code: typeof code === 'number' ? code : 1, stdout, stderr });
          },
        );
        child.stdin?.end(opts.input ?? '');
      });
    },
  };
  return self;
}

/** The API through curl inside a namespace (the test process cannot reach a namespace's addresses). */
async function curlApi(wrap: string[], method: string, url: string, body: unknown, tk: string | null, headers: Record<string, string>) {
  const args = [...wrap.slice(1), 'curl', '-sS', '-X', method, '-o', '-', '-w', '\n%{http_code}', url];
  if (tk) args.push('-H', `authorization: Bearer ${tk}`);
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', typeof body === 'string' ? body : JSON.stringify(body));
  const out = await new Promise<string>((res, rej) =>
    execFile(wrap[0]!, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? rej(new Error(`curl: ${stderr || err.message}`)) : res(stdout))),
  );
  const i = out.lastIndexOf('\n');
  const text = out.slice(0, i);
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: Number(out.slice(i + 1)), body: parsed as any, headers: new Headers() };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
