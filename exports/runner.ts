/**
 * The one way netroot runs external commands (exportfs, rsync, dracut, ssh-keygen, ...):
 * argv arrays (never a shell string), a timeout, stderr captured into the error, output lines
 * streamed to a callback (for progress parsing), and an AbortSignal. Tests can swap the runner.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the command after this long (default 60 s; 0 = no limit). */
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string | Buffer;
  /** Called with each stdout/stderr line as it arrives (\r and \n both end a line). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Exit codes that count as success (default [0]). */
  okCodes?: number[];
  /** Keep at most this much of each stream in the result (default 1 MiB). */
  maxOutput?: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
    readonly reason: 'exit' | 'timeout' | 'aborted' | 'spawn',
  ) {
    const tail = stderr.trim().split('\n').slice(-5).join(' | ');
    super(`${argv[0]} ${reason === 'exit' ? `exited with ${code}` : reason}${tail ? `: ${tail}` : ''}`);
    this.name = 'CommandError';
  }
}

export type Runner = (argv: readonly string[], opts?: RunOptions) => Promise<RunResult>;

function appendCapped(acc: string, chunk: string, max: number): string {
  const s = acc + chunk;
  return s.length > max ? s.slice(s.length - max) : s;
}

export const runCommand: Runner = (argv, opts = {}) =>
  new Promise((resolve, reject) => {
    if (argv.length === 0) throw new RangeError('runCommand: empty argv');
    const max = opts.maxOutput ?? 1 << 20;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let reason: CommandError['reason'] = 'exit';
    const partial = { stdout: '', stderr: '' };
    const feed = (stream: 'stdout' | 'stderr', chunk: string) => {
      if (stream === 'stdout') stdout = appendCapped(stdout, chunk, max);
      else stderr = appendCapped(stderr, chunk, max);
      if (!opts.onLine) return;
      const parts = (partial[stream] + chunk).split(/\r\n|\r|\n/);
      partial[stream] = parts.pop() ?? '';
      for (const line of parts) if (line) opts.onLine(line, stream);
    };
    child.stdout.setEncoding('utf8').on('data', (c: string) => feed('stdout', c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => feed('stderr', c));
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = timeoutMs > 0 ? setTimeout(() => { reason = 'timeout'; child.kill('SIGKILL'); }, timeoutMs) : null;
    const onAbort = () => { reason = 'aborted'; child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 5000).unref(); };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new CommandError(argv, null, e.message, 'spawn'));
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      for (const s of ['stdout', 'stderr'] as const) if (partial[s] && opts.onLine) opts.onLine(partial[s], s);
      const ok = opts.okCodes ?? [0];
      if (reason === 'exit' && code !== null && ok.includes(code)) resolve({ code, stdout, stderr });
      else reject(new CommandError(argv, code, stderr, reason));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
