/** A TftpServer on 127.0.0.1 over a temp root, for the integration tests. */
import { mkdtemp, rm, writeFile, mkdir, symlink } from 'node:fs/promises';
import { randomBytes, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TftpServer, type TftpServerOptions, type TransferRecord } from '../../../pxe/tftp/server.js';
import { createStaticRoot } from '../../../pxe/tftp/static-root.js';
import { FileCache } from '../../../pxe/tftp/cache.js';

export interface Harness {
  root: string;
  outside: string;
  server: TftpServer;
  port: number;
  records: TransferRecord[];
  sha: Record<string, string>;
  close(): Promise<void>;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * Options every harness in this process starts with (before the test's own): the `*.workers.test`
 * files set `workers` here and import a suite, so the same tests run with transfers on two
 * threads; the `*.fallback.test` files set `native: false`, so they run on the JavaScript path.
 */
export const harnessDefaults: Partial<TftpServerOptions> = {};

/** Files: small.bin (1000 B), 256k.bin, 1m.bin, exact512.bin, text.txt, sub/x.txt, link-out -> outside/secret, optionally 60m.bin. */
export async function startHarness(opts: Partial<TftpServerOptions> & { big?: boolean } = {}): Promise<Harness> {
  const base = await mkdtemp(join(tmpdir(), 'netroot-tftp-'));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(outside);
  const sha: Record<string, string> = {};
  const put = async (name: string, data: Buffer) => {
    await writeFile(join(root, name), data);
    sha[name] = sha256(data);
  };
  await put('small.bin', randomBytes(1000));
  await put('1m.bin', randomBytes(1 << 20));
  await put('256k.bin', randomBytes(256 << 10));
  await put('exact512.bin', randomBytes(512 * 4));
  await put('text.txt', Buffer.from('line one\nline two\r\nend\n'));
  await put('sub/x.txt', Buffer.from('in sub\n'));
  if (opts.big) await put('60m.bin', randomBytes(60 << 20));
  await writeFile(join(outside, 'secret'), 'NETROOT-OUTSIDE-SECRET\n');
  await symlink(join(outside, 'secret'), join(root, 'link-out'));
  await symlink('small.bin', join(root, 'link-in'));
  const records: TransferRecord[] = [];
  const { big: _big, ...serverOpts } = opts;
  const server = new TftpServer({
    handler: await createStaticRoot({ root, cache: new FileCache({ maxFileBytes: 2 << 20 }) }),
    host: '127.0.0.1',
    port: 0,
    onTransfer: (r) => records.push(r),
    ...harnessDefaults,
    ...serverOpts,
  });
  const { port } = await server.start();
  // The native data path must really be under test: a missing addon fails here, never falls back.
  const want = (serverOpts.native ?? harnessDefaults.native) === false ? 'js' : 'native';
  if (server.dataPath !== want) {
    await server.stop();
    throw new Error(`tftp data path is ${server.dataPath}, the test wants ${want} (npm run build builds the addon)`);
  }
  return {
    root,
    outside,
    server,
    port,
    records,
    sha,
    async close() {
      await server.stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}
