/**
 * Small hot files (boot loaders: a boot storm asks for the same undionly.kpxe hundreds of times)
 * kept in memory. An entry is used only while the file's identity (inode, size, mtime) is
 * unchanged, so replacing a loader on disk takes effect on the next request.
 */
import { readFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';

export interface FileCacheOptions {
  /** Files larger than this are never cached. Default 4 MiB. */
  maxFileBytes?: number;
  /** Total bytes kept; least recently used entries go first. Default 64 MiB. */
  maxTotalBytes?: number;
}

interface Entry {
  id: string;
  data: Buffer;
}

/**
 * A copy of `data` in a SharedArrayBuffer. Bytes served again and again (cache entries, boot
 * loaders) live in one: handing them to a transfer worker thread then shares them, where a plain
 * Buffer is copied into the worker for every transfer (garbage its heap frees only later).
 */
export function sharedCopy(data: Buffer): Buffer {
  const out = Buffer.from(new SharedArrayBuffer(data.length));
  data.copy(out);
  return out;
}

const identity = (st: Stats) => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;

export class FileCache {
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private total = 0;
  hits = 0;
  misses = 0;

  constructor(opts: FileCacheOptions = {}) {
    this.maxFileBytes = opts.maxFileBytes ?? 4 << 20;
    this.maxTotalBytes = opts.maxTotalBytes ?? 64 << 20;
    for (const [k, v] of Object.entries({ maxFileBytes: this.maxFileBytes, maxTotalBytes: this.maxTotalBytes })) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`cache.${k}: must be a non-negative integer, got ${v}`);
    }
  }

  /** Cached bytes of `path` (already resolved and checked), or null when it is not cacheable. */
  async get(path: string, st: Stats): Promise<Buffer | null> {
    if (st.size > this.maxFileBytes || st.size > this.maxTotalBytes) return null;
    const id = identity(st);
    const e = this.entries.get(path);
    if (e && e.id === id) {
      this.hits++;
      this.entries.delete(path); // re-insert: Map order is the LRU order
      this.entries.set(path, e);
      return e.data;
    }
    const key = `${path}\0${id}`;
    let p = this.loading.get(key);
    if (!p) {
      this.misses++;
      p = readFile(path)
        .then(sharedCopy)
        .finally(() => this.loading.delete(key));
      this.loading.set(key, p);
      const data = await p;
      if (data.length === st.size) this.put(path, { id, data });
      return data;
    }
    return p;
  }

  private put(path: string, e: Entry): void {
    const old = this.entries.get(path);
    if (old) {
      this.total -= old.data.length;
      this.entries.delete(path);
    }
    this.entries.set(path, e);
    this.total += e.data.length;
    for (const [k, v] of this.entries) {
      if (this.total <= this.maxTotalBytes) break;
      this.entries.delete(k);
      this.total -= v.data.length;
    }
  }

  get bytes(): number {
    return this.total;
  }
}
