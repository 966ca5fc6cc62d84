/**
 * A real OpenSSH sshd for golden-host tests: 127.0.0.1 on a free high port, its own config, host
 * key and authorized_keys in a temp dir. Runs as root (`sshd -D -e -f CONF`, absolute path, with
 * the privilege-separation dir /run/sshd), stopped by PID.
 */
import { copyFile, chmod, mkdir, writeFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { run, start, type Started } from '../../helpers/proc.js';

export const SSHD = '/usr/sbin/sshd';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface TestSshd {
  port: number;
  dir: string;
  hostKeyPath: string;
  /** PID of the listening sshd (its children serve the connections). */
  pid(): number;
  /** Replaces the host key and restarts sshd on the same port (a re-installed golden host). */
  rekey(): Promise<void>;
  stop(): Promise<void>;
}

/** Is a TCP port on 127.0.0.1 free to listen on (now)? */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export interface SshdOptions {
  /** Listen on this port rather than a free one (the caller has checked it is free). */
  port?: number;
  /** Serve this host key (a private key file, copied) rather than a fresh one: a fingerprint that is the same on every run. */
  hostKey?: string;
  /** A command prefix (e.g. ['ip', 'netns', 'exec', ns]) to run sshd inside a namespace, on its loopback. */
  wrap?: string[];
}

export async function startSshd(dir: string, authorizedKey: string, o: SshdOptions = {}): Promise<TestSshd> {
  if (!(await stat(SSHD).then(() => true, () => false))) throw new Error(`${SSHD} missing: install openssh-server (scripts/deps/golden.txt)`);
  // Left in place on stop: another test's sshd (this test file or another run at the same time)
  // may be using it, and sshd drops every new connection before its banner when it is gone.
  await mkdir('/run/sshd', { mode: 0o755 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  await mkdir(dir, { recursive: true });
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  const port = o.port ?? (await freePort());
  await writeFile(join(dir, 'authorized_keys'), `${authorizedKey}\n`, { mode: 0o600 });
  const conf = join(dir, 'sshd_config');
  await writeFile(conf, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKeyPath}`, `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password',
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no',
    'Subsystem sftp internal-sftp', 'LogLevel VERBOSE', 'PrintMotd no', 'PrintLastLog no', 'UseDNS no', '',
  ].join('\n'));
  const keygen = async () => {
    await run('rm', ['-f', hostKeyPath, `${hostKeyPath}.pub`]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKeyPath]);
  };
  let proc: Started | null = null;
  const launch = async () => {
    const argv = [...(o.wrap ?? []), SSHD, '-D', '-e', '-f', conf];
    proc = start(argv[0]!, argv.slice(1));
    await proc.waitFor(/Server listening on 127\.0\.0\.1 port/, 15000);
  };
  if (o.hostKey) {
    // sshd refuses a private host key that others can read: the copy is 0600 whatever git made of the fixture's mode.
    await copyFile(o.hostKey, hostKeyPath);
    await chmod(hostKeyPath, 0o600);
    await copyFile(`${o.hostKey}.pub`, `${hostKeyPath}.pub`);
  } else {
    await keygen();
  }
  await launch();
  return {
    port, dir, hostKeyPath,
    pid: () => proc!.pid,
    async rekey() {
      await proc?.stop();
      await keygen();
      await launch();
    },
    async stop() {
      await proc?.stop();
    },
  };
}
