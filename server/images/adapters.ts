/** The pipeline's persistence interfaces (exports/image) over netroot's store. */
import type { ImageState } from '../../exports/image/lifecycle.js';
import type { VersionPatch, VersionStore } from '../../exports/image/store.js';
import type { VersionRecord } from '../../exports/image/types.js';
import type { Store, VersionRow } from '../store/types.js';

const toRecord = (v: VersionRow): VersionRecord => ({
  image: v.image,
  version: v.version,
  state: v.state === 'removed' ? 'failed' : v.state,
  createdAt: new Date(v.createdAt).toISOString(),
  ...(v.kernel ? { kernel: v.kernel } : {}),
  ...(v.error ? { error: v.error } : {}),
  ...(v.kept ? { kept: true } : {}),
});

export function versionStore(store: Store): VersionStore {
  return {
    async list(image) {
      return (await store.versions.list(image)).filter((v) => v.state !== 'removed').map(toRecord);
    },
    async get(image, version) {
      const v = await store.versions.get(image, version);
      return v ? toRecord(v) : null;
    },
    async create(rec) {
      await store.versions.create({
        image: rec.image,
        version: rec.version,
        state: rec.state,
        createdAt: Date.parse(rec.createdAt),
        kernel: rec.kernel ?? null,
        error: rec.error ?? null,
        kept: rec.kept ?? false,
        sizeBytes: null,
      });
    },
    async update(image, version, patch: VersionPatch) {
      await store.versions.update(image, version, {
        ...(patch.state !== undefined ? { state: patch.state } : {}),
        ...(patch.kernel !== undefined ? { kernel: patch.kernel } : {}),
        ...(patch.error !== undefined ? { error: patch.error } : {}),
        ...(patch.kept !== undefined ? { kept: patch.kept } : {}),
      });
    },
    async remove(image, version) {
      await store.versions.remove(image, version);
    },
  };
}

export function imageState(store: Store): ImageState {
  return {
    async getActive(image) {
      return (await store.images.get(image))?.activeVersion ?? null;
    },
    async setActive(image, version) {
      await store.images.update(image, { activeVersion: version });
    },
    async pinnedVersions(image) {
      return (await store.nodes.all()).filter((n) => n.image === image && n.pinnedVersion !== null).map((n) => n.pinnedVersion!);
    },
    async lastBootedVersions(image) {
      return store.events.versionsBooted(image);
    },
  };
}
