/**
 * Publish, roll back and retain with persistence: the pure decisions of policy.ts applied
 * through two small interfaces the server implements over its store (versions, and the image's
 * active version plus what nodes pin and last booted). Trees are removed from disk here.
 */
import { publishTarget, retentionPlan, rollbackTarget, type RetentionPlan } from './policy.js';
import { removeVersionTree } from './tree.js';
import type { VersionStore } from './store.js';

export interface ImageState {
  getActive(image: string): Promise<string | null>;
  setActive(image: string, version: string): Promise<void>;
  /** Versions of this image that nodes pin (canaries). */
  pinnedVersions(image: string): Promise<string[]>;
  /** Versions of this image that nodes booted last. */
  lastBootedVersions(image: string): Promise<string[]>;
}

export class MemoryImageState implements ImageState {
  readonly active = new Map<string, string>();
  readonly pins = new Map<string, string[]>();
  readonly booted = new Map<string, string[]>();
  async getActive(image: string) { return this.active.get(image) ?? null; }
  async setActive(image: string, version: string) { this.active.set(image, version); }
  async pinnedVersions(image: string) { return this.pins.get(image) ?? []; }
  async lastBootedVersions(image: string) { return this.booted.get(image) ?? []; }
}

export interface ActiveChange {
  previous: string | null;
  active: string;
}

export async function publishVersion(versions: VersionStore, state: ImageState, image: string, version: string): Promise<ActiveChange> {
  const target = publishTarget(await versions.list(image), version);
  const previous = await state.getActive(image);
  await state.setActive(image, target);
  return { previous, active: target };
}

export async function rollbackVersion(versions: VersionStore, state: ImageState, image: string, to?: string): Promise<ActiveChange> {
  const previous = await state.getActive(image);
  const target = rollbackTarget(await versions.list(image), previous, to);
  await state.setActive(image, target);
  return { previous, active: target };
}

export interface RetentionResult extends RetentionPlan {
  removed: string[];
  /** Versions whose removal failed (e.g. mounts inside), with the reason. */
  errors: { version: string; error: string }[];
}

/** Applies retentionPlan (dryRun: only plans). Call it while holding the image's pull lock. */
export async function applyRetention(
  versions: VersionStore, state: ImageState, imagesDir: string, image: string, keep: number, dryRun = false,
): Promise<RetentionResult> {
  const plan = retentionPlan(await versions.list(image), await state.getActive(image),
    await state.pinnedVersions(image), await state.lastBootedVersions(image), keep);
  const res: RetentionResult = { ...plan, removed: [], errors: [] };
  if (dryRun) return res;
  for (const v of plan.remove) {
    try {
      await removeVersionTree(imagesDir, image, v);
      await versions.remove(image, v);
      res.removed.push(v);
    } catch (e) {
      res.errors.push({ version: v, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return res;
}
