/**
 * What a bench serves and what it checks: random files with their size and sha256, and the check
 * of every downloaded copy against them. A download that is missing, short or different is a
 * failure, counted and shown; only verified bytes count as served.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';

export interface Expected {
  size: number;
  sha256: string;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Writes `bytes` random bytes to `path` (1 MiB at a time) and returns what a copy must match. */
export async function makeRandomFile(path: string, bytes: number): Promise<Expected> {
  const h = createHash('sha256');
  const f = await open(path, 'w');
  try {
    for (let left = bytes; left > 0; ) {
      const chunk = randomBytes(Math.min(left, 1 << 20));
      h.update(chunk);
      await f.write(chunk);
      left -= chunk.length;
    }
  } finally {
    await f.close();
  }
  return { size: bytes, sha256: h.digest('hex') };
}

/** null when `path` holds exactly the expected bytes, else why not. */
export async function checkFile(path: string, want: Expected): Promise<string | null> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return 'no file';
  }
  if (size !== want.size) return `size ${size}, expected ${want.size}`;
  return (await sha256File(path)) === want.sha256 ? null : 'sha256 differs';
}

export interface Verified {
  ok: number;
  total: number;
  /** Bytes of the copies that matched. */
  okBytes: number;
  /** One line per failed copy ("<path>: <reason>"), at most `keep` of them. */
  failures: string[];
}

/** Checks every copy; `keep` bounds the failure lines kept (the count is always exact). */
export async function checkAll(copies: { path: string; want: Expected }[], keep = 10): Promise<Verified> {
  const checked: { label: string; size: number; why: string | null }[] = [];
  for (const c of copies) checked.push({ label: c.path, size: c.want.size, why: await checkFile(c.path, c.want) });
  return tally(checked, keep);
}

/** Counts copies already checked (why null: it matched); `keep` bounds the failure lines kept. */
export function tally(checked: { label: string; size: number; why: string | null }[], keep = 10): Verified {
  const v: Verified = { ok: 0, total: checked.length, okBytes: 0, failures: [] };
  let failed = 0;
  for (const c of checked) {
    if (c.why === null) {
      v.ok++;
      v.okBytes += c.size;
    } else if (failed++ < keep) v.failures.push(`${c.label}: ${c.why}`);
  }
  if (failed > keep) v.failures.push(`... and ${failed - keep} more`);
  return v;
}

/**
 * Why a download's size and sha256, as the client reported them, differ from what was expected,
 * or null when they match. `got` is null when the client failed.
 */
export function compareDownload(got: { size: number; sha256: string } | null, want: Expected): string | null {
  if (!got) return 'download failed';
  if (got.size !== want.size) return `size ${got.size}, expected ${want.size}`;
  return got.sha256 === want.sha256 ? null : 'sha256 differs';
}
