/**
 * SSH to a golden host with ssh2: remote commands and SFTP, with the pinned host key checked in
 * hostVerifier. A host with no pinned key or a different key is refused before authentication.
 */
import { Client, type ConnectConfig } from 'ssh2';
import { chmod, readFile } from 'node:fs/promises';
import { GoldenError } from './errors.js';
import { fingerprintSha256, keyType } from './hostkey.js';
import { pinnedKey } from './knownhosts.js';
import { shellJoin } from './shell.js';
import type { GoldenHost, SshIdentity } from './types.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Exit codes that count as success (default [0]); others throw GoldenError 'command-failed'. */
  okCodes?: number[];
}

export interface GoldenSession {
  readonly host: GoldenHost;
  /** Runs argv (quoted for the remote shell). */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a shell snippet as is (for pipelines like `lsmod | ...`); the caller quotes. */
  execShell(script: string, opts?: ExecOptions): Promise<ExecResult>;
  fetchFile(remotePath: string, localPath: string, mode?: number): Promise<void>;
  writeFile(remotePath: string, content: string): Promise<void>;
  close(): void;
}

export interface ConnectOptions {
  readyTimeoutMs?: number;
}

export async function openSession(host: GoldenHost, id: SshIdentity, opts: ConnectOptions = {}): Promise<GoldenSession> {
  const pinned = await pinnedKey(id.knownHostsPath, host.address, host.port);
  if (!pinned) throw new GoldenError('host-key-unknown', host.name, `no pinned host key for ${host.address}:${host.port}; fetch and confirm it first`);
  const privateKey = await readFile(id.privateKeyPath);
  const client = new Client();
  let mismatch: string | null = null;
  const cfg: ConnectConfig = {
    host: host.address,
    port: host.port,
    username: host.user,
    privateKey,
    readyTimeout: opts.readyTimeoutMs ?? 20_000,
    keepaliveInterval: 15_000,
    hostVerifier: (key: Buffer) => {
      if (key.equals(pinned)) return true;
      mismatch = fingerprintSha256(key);
      return false;
    },
  };
  // Every 'error' has a listener from the start to the end: ssh2 can emit more than one (a host
  // that resets before its banner gives "Connection lost before handshake" after the first), and
  // an unheard one would end the whole service.
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error & { level?: string }) => {
      client.removeListener('ready', onReady);
      client.end();
      if (mismatch) {
        reject(new GoldenError('host-key-changed', host.name,
          `host key of ${host.address}:${host.port} changed: pinned ${fingerprintSha256(pinned)}, offered ${mismatch}; refusing to connect (re-confirm the key if the change is expected)`));
      } else if (e.level === 'client-authentication') {
        reject(new GoldenError('auth-failed', host.name, `${host.user}@${host.address}:${host.port} did not accept netroot's key (is it in authorized_keys?)`));
      } else {
        reject(new GoldenError('unreachable', host.name, `cannot connect to ${host.address}:${host.port}: ${e.message}`));
      }
    };
    const onReady = () => {
      client.removeListener('error', onError);
      resolve();
    };
    client.once('error', onError);
    client.once('ready', onReady);
    client.connect(cfg);
  });
  // Later transport errors surface through the pending operation (the listener above keeps the
  // process alive).

  const execShell = (script: string, o: ExecOptions = {}): Promise<ExecResult> =>
    new Promise((resolve, reject) => {
      client.exec(script, (err, stream) => {
        if (err) return reject(new GoldenError('unreachable', host.name, `exec failed: ${err.message}`));
        let stdout = '';
        let stderr = '';
        let timer: NodeJS.Timeout | null = null;
        const stop = (why: string) => {
          stream.close();
          reject(new GoldenError('command-failed', host.name, `${script.slice(0, 80)}: ${why}`));
        };
        if (o.timeoutMs) timer = setTimeout(() => stop('timeout'), o.timeoutMs);
        const onAbort = () => stop('aborted');
        o.signal?.addEventListener('abort', onAbort, { once: true });
        stream.setEncoding('utf8');
        stream.stderr.setEncoding('utf8');
        stream.on('data', (d: string) => { stdout += d; });
        stream.stderr.on('data', (d: string) => { stderr += d; });
        stream.on('close', (code: number | null) => {
          if (timer) clearTimeout(timer);
          o.signal?.removeEventListener('abort', onAbort);
          const c = code ?? -1;
          if ((o.okCodes ?? [0]).includes(c)) resolve({ code: c, stdout, stderr });
          else {
            const tail = stderr.trim().split('\n').slice(-5).join(' | ');
            reject(new GoldenError('command-failed', host.name, `${script.slice(0, 120)} exited with ${c}${tail ? `: ${tail}` : ''}`));
          }
        });
      });
    });

  const withSftp = <T>(fn: (sftp: import('ssh2').SFTPWrapper) => Promise<T>): Promise<T> =>
    new Promise((resolve, reject) => {
      client.sftp((err, sftp) => {
        if (err) return reject(new GoldenError('unreachable', host.name, `sftp: ${err.message}`));
        fn(sftp).then((v) => { sftp.end(); resolve(v); }, (e: Error) => { sftp.end(); reject(new GoldenError('command-failed', host.name, `sftp: ${e.message}`)); });
      });
    });

  return {
    host,
    exec: (argv, o) => execShell(shellJoin(argv), o),
    execShell,
    fetchFile: (remotePath, localPath, mode = 0o644) =>
      withSftp((sftp) => new Promise<void>((res, rej) => sftp.fastGet(remotePath, localPath, (e) => (e ? rej(e) : res()))))
        .then(() => chmod(localPath, mode)),
    writeFile: (remotePath, content) =>
      withSftp((sftp) => new Promise<void>((res, rej) => sftp.writeFile(remotePath, content, (e) => (e ? rej(e) : res())))),
    close: () => client.end(),
  };
}

/**
 * Connects only far enough to see the host key (no authentication): shown as a fingerprint on
 * registration, pinned when the admin confirms.
 */
export function fetchHostKey(address: string, port: number, timeoutMs = 15_000): Promise<{ type: string; blob: Buffer; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let got: Buffer | null = null;
    const done = () => {
      client.end();
      if (!got) return;
      try {
        resolve({ type: keyType(got), blob: got, fingerprint: fingerprintSha256(got) });
      } catch (e) {
        reject(e);
      }
    };
    client.on('error', (e) => {
      if (got) done();
      else reject(new GoldenError('unreachable', `${address}:${port}`, `cannot fetch host key: ${e.message}`));
    });
    client.connect({
      host: address,
      port,
      username: 'netroot-hostkey-probe',
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        got = Buffer.from(key);
        return false;
      },
    });
  });
}
