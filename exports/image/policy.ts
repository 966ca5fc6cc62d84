/**
 * Publish, roll back, pin, retain: pure decisions over an image's version list. The server
 * applies them (active version in the image row, pins on nodes) and removes trees with
 * removeVersionTree. A version is immutable once ready; only ready versions can be served.
 */
import type { VersionRecord } from './types.js';

export class PolicyError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'PolicyError';
  }
}

function byAge(a: VersionRecord, b: VersionRecord): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
}

function readyOne(versions: readonly VersionRecord[], version: string, field: string): VersionRecord {
  const v = versions.find((x) => x.version === version);
  if (!v) throw new PolicyError(field, `version ${JSON.stringify(version)} does not exist`);
  if (v.state !== 'ready') throw new PolicyError(field, `version ${version} is ${v.state}, not ready`);
  return v;
}

/** The version to make active when publishing `version` (must be ready). */
export function publishTarget(versions: readonly VersionRecord[], version: string): string {
  return readyOne(versions, version, 'version').version;
}

/**
 * Rollback: to `to` when given (a ready version other than the active one), else to the newest
 * ready version older than the active one.
 */
export function rollbackTarget(versions: readonly VersionRecord[], active: string | null, to?: string): string {
  if (to !== undefined) {
    if (to === active) throw new PolicyError('to', `version ${to} is already active`);
    return readyOne(versions, to, 'to').version;
  }
  const sorted = [...versions].sort(byAge);
  const idx = active === null ? -1 : sorted.findIndex((v) => v.version === active);
  if (idx < 0) throw new PolicyError('active', 'the image has no active version to roll back from');
  for (let i = idx - 1; i >= 0; i--) if (sorted[i]!.state === 'ready') return sorted[i]!.version;
  throw new PolicyError('active', `no ready version older than ${active}`);
}

/** A node may pin (canary) only a ready version. */
export function pinTarget(versions: readonly VersionRecord[], version: string): string {
  return readyOne(versions, version, 'pin').version;
}

export interface RetentionPlan {
  keep: string[];
  remove: string[];
}

/**
 * Keeps the newest `keep` ready versions plus, whatever their age, the active one, every pinned
 * one, every one a node last booted, and any still building. Failed versions not protected
 * are removed. Never returns a protected version in `remove`.
 */
export function retentionPlan(
  versions: readonly VersionRecord[],
  activeVersion: string | null,
  pinned: Iterable<string>,
  lastBooted: Iterable<string>,
  keep: number,
): RetentionPlan {
  if (!Number.isInteger(keep) || keep < 0) throw new PolicyError('keep', `${keep} is not a count`);
  const protectedSet = new Set<string>([...pinned, ...lastBooted]);
  if (activeVersion !== null) protectedSet.add(activeVersion);
  const sorted = [...versions].sort(byAge);
  const ready = sorted.filter((v) => v.state === 'ready').map((v) => v.version);
  const newestReady = new Set(keep > 0 ? ready.slice(-keep) : []);
  const plan: RetentionPlan = { keep: [], remove: [] };
  for (const v of sorted) {
    const stays = protectedSet.has(v.version) || v.state === 'building' || newestReady.has(v.version);
    (stays ? plan.keep : plan.remove).push(v.version);
  }
  return plan;
}
