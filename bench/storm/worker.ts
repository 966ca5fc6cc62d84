/** A worker thread of DownloadPool (pool.ts): the downloads it is given, checked as it is told. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { httpGet, type HttpResult } from './http-client.js';
import { TftpClients, type TftpResult } from './tftp-client.js';
import type { BigFile, PoolFiles, PoolReply, PoolRequest } from './pool.js';

const files = workerData as PoolFiles;
const expect = new Map<BigFile, { bytes: Buffer; sha256: string }>();
if (files.expect) {
  for (const k of ['kernel', 'initrd'] as const) {
    const bytes = readFileSync(files.expect[k].path);
    // The bytes compared against must themselves be the file the plan names.
    if (createHash('sha256').update(bytes).digest('hex') !== files.expect[k].sha256) throw new Error(`${files.expect[k].path} is not the file the plan names`);
    expect.set(k, { bytes, sha256: files.expect[k].sha256 });
  }
}
const tftp = new TftpClients();

parentPort!.on('message', (m: PoolRequest) => {
  let work: Promise<HttpResult | TftpResult>;
  if (m.kind === 'tftp') work = tftp.get(m.opts);
  else {
    const e = expect.get(m.file);
    work = httpGet({ ...m.opts, ...(e ? { expect: e } : {}) });
  }
  work.then(
    (result) => parentPort!.postMessage({ id: m.id, result } satisfies PoolReply),
    (err: unknown) => parentPort!.postMessage({ id: m.id, error: (err as Error).message } satisfies PoolReply),
  );
});
