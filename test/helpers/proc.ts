/** Child processes for integration tests: start, wait for a line, stop by PID (only our own). */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface Started {
  child: ChildProcess;
  pid: number;
  /** Everything printed so far on stdout and stderr. */
  output(): string;
  /** Resolves with the first match of re in the output (already printed or future). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

export function start(cmd: string, args: string[], opts: SpawnOptions = {}): Started {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      for (const w of [...waiters]) w();
      resolve(code);
    });
    child.on('error', () => resolve(null));
  });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  return {
    child,
    pid,
    exited,
    output: () => out,
    waitFor(re, timeoutMs = 15000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (m) {
            cleanup();
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`${cmd} exited (${child.exitCode ?? child.signalCode}) before ${re}; output:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timeout waiting for ${re} from ${cmd}; output:\n${out}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Runs a command to completion; throws with stderr on a non-zero exit. */
export async function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    const p = execFileP(cmd, args, { timeout: opts.timeoutMs ?? 60000, maxBuffer: 64 << 20, env: opts.env });
    if (opts.input !== undefined) {
      p.child.stdin?.end(opts.input);
    }
    const r = await p;
    return { stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string; code?: unknown };
    throw new Error(`${cmd} ${args.join(' ')} failed (${String(err.code)}): ${err.stderr || err.message}`);
  }
}

/** True if a command exists on PATH (used only to give a clear failure, never to skip). */
export async function have(cmd: string): Promise<boolean> {
  try {
    await execFileP('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}
