/** A worker thread of HttpPool (http-pool.ts): downloads it is given, checked as it is told. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { httpGet } from './http-client.js';
import type { BigFile, HttpPoolFiles, PoolReply, PoolRequest } from './http-pool.js';

const files = workerData as HttpPoolFiles;
const expect = new Map<BigFile, { bytes: Buffer; sha256: string }>();
if (files.expect) {
  for (const k of ['kernel', 'initrd'] as const) {
    const bytes = readFileSync(files.expect[k].path);
    // The bytes compared against must themselves be the file the plan names.
    if (createHash('sha256').update(bytes).digest('hex') !== files.expect[k].sha256) throw new Error(`${files.expect[k].path} is not the file the plan names`);
    expect.set(k, { bytes, sha256: files.expect[k].sha256 });
  }
}

parentPort!.on('message', (m: PoolRequest) => {
  const e = expect.get(m.file);
  httpGet({ ...m.opts, ...(e ? { expect: e } : {}) }).then(
    (result) => parentPort!.postMessage({ id: m.id, result } satisfies PoolReply),
    (err: unknown) => parentPort!.postMessage({ id: m.id, error: (err as Error).message } satisfies PoolReply),
  );
});
