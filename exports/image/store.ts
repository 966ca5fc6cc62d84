/**
 * What the pipeline needs to persist, as small async interfaces: the server implements them over
 * SQLite; the in-memory versions serve tests and the CLI's dry runs.
 */
import type { VersionRecord } from './types.js';

export type VersionPatch = Partial<Pick<VersionRecord, 'state' | 'kernel' | 'error' | 'kept'>>;

export interface VersionStore {
  /** All versions of an image, oldest first. */
  list(image: string): Promise<VersionRecord[]>;
  get(image: string, version: string): Promise<VersionRecord | null>;
  create(rec: VersionRecord): Promise<void>;
  update(image: string, version: string, patch: VersionPatch): Promise<void>;
  remove(image: string, version: string): Promise<void>;
}

export class MemoryVersionStore implements VersionStore {
  private readonly rows: VersionRecord[] = [];

  async list(image: string): Promise<VersionRecord[]> {
    return this.rows.filter((r) => r.image === image).map((r) => ({ ...r }));
  }

  async get(image: string, version: string): Promise<VersionRecord | null> {
    const r = this.rows.find((x) => x.image === image && x.version === version);
    return r ? { ...r } : null;
  }

  async create(rec: VersionRecord): Promise<void> {
    if (await this.get(rec.image, rec.version)) throw new Error(`version: ${rec.image}/${rec.version} exists`);
    this.rows.push({ ...rec });
  }

  async update(image: string, version: string, patch: VersionPatch): Promise<void> {
    const r = this.rows.find((x) => x.image === image && x.version === version);
    if (!r) throw new Error(`version: ${image}/${version} not found`);
    Object.assign(r, patch);
  }

  async remove(image: string, version: string): Promise<void> {
    const i = this.rows.findIndex((x) => x.image === image && x.version === version);
    if (i >= 0) this.rows.splice(i, 1);
  }
}

/** One pull per image at a time. tryAcquire returns a release function, or null when busy. */
export interface PullLock {
  tryAcquire(image: string): Promise<(() => Promise<void>) | null>;
}

export class MemoryPullLock implements PullLock {
  private readonly held = new Set<string>();

  async tryAcquire(image: string): Promise<(() => Promise<void>) | null> {
    if (this.held.has(image)) return null;
    this.held.add(image);
    let released = false;
    return async () => {
      if (!released) this.held.delete(image);
      released = true;
    };
  }
}
