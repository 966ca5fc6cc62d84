import { z } from 'zod';
import { route } from '../route.js';
import { nameField } from '../../registry/fields.js';
import type { ImageService } from '../../images/service.js';
import { goldenCreateSchema, imageCreateSchema, imagePatchSchema, pinSchema } from '../../images/schemas.js';
import type { GoldenHostRecord, ImageRecord, JobRecord, Store } from '../../store/types.js';
import { notFound } from '../../errors.js';
import type { JobRunner } from '../../jobs/runner.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const presentHost = (h: GoldenHostRecord) => ({ ...h, createdAt: iso(h.createdAt), updatedAt: iso(h.updatedAt) });
const presentImage = (i: ImageRecord) => ({ ...i, createdAt: iso(i.createdAt), updatedAt: iso(i.updatedAt) });
export const presentJob = (j: JobRecord) => ({ ...j, createdAt: iso(j.createdAt), startedAt: iso(j.startedAt), finishedAt: iso(j.finishedAt) });

const nameParams = z.strictObject({ name: nameField });

export function imageRoutes(d: { store: Store; images: ImageService; jobs: JobRunner }) {
  async function versionsOf(name: string) {
    const image = await d.store.images.get(name);
    if (!image) throw notFound(`image ${JSON.stringify(name)}`);
    const all = await d.store.nodes.all();
    const nodes = all.filter((n) => n.image === name);
    // What registered nodes reported running (their own "booted" report), whatever image they
    // are assigned now: a version can have running nodes that will boot another one next.
    const registered = new Set(all.map((n) => n.mac));
    const runs = new Map<string, number>();
    for (const s of await d.store.events.statusAll()) {
      if (s.runningImage === name && s.runningVersion && registered.has(s.mac)) runs.set(s.runningVersion, (runs.get(s.runningVersion) ?? 0) + 1);
    }
    return {
      image,
      items: (await d.store.versions.list(name)).map((v) => ({
        version: v.version,
        state: v.state,
        sizeBytes: v.sizeBytes,
        kernel: v.kernel,
        error: v.error,
        kept: v.kept,
        createdAt: iso(v.createdAt),
        active: image.activeVersion === v.version,
        runningNodes: runs.get(v.version) ?? 0,
        bootsNext: nodes.filter((n) => (n.pinnedVersion ?? image.activeVersion) === v.version).length,
        pinnedNodes: nodes.filter((n) => n.pinnedVersion === v.version).length,
        pinnedBy: nodes.filter((n) => n.pinnedVersion === v.version).map((n) => n.fqdn),
      })),
    };
  }
  return [
    route({
      method: 'get',
      path: '/ssh/key',
      tag: 'golden',
      summary: "netroot's SSH public key: authorise it on golden hosts (root's authorized_keys); pulls remove it from every authorized_keys file in the images",
      access: 'read',
      responses: { 200: '{publicKey, fingerprint}' },
      async handle() {
        const k = d.images.publicKey();
        return { body: { publicKey: k.publicKey, fingerprint: k.fingerprint } };
      },
    }),
    route({
      method: 'get',
      path: '/golden-hosts',
      tag: 'golden',
      summary: 'List golden hosts',
      access: 'read',
      responses: { 200: '{items}' },
      async handle() {
        return { body: { items: (await d.store.goldenHosts.list()).map(presentHost) } };
      },
    }),
    route({
      method: 'post',
      path: '/golden-hosts',
      tag: 'golden',
      summary: 'Register a golden host; its SSH host key is fetched and shown as a fingerprint to pin',
      access: 'write',
      body: goldenCreateSchema,
      responses: { 201: 'The host (pinned: false)', 400: 'Invalid field', 409: 'Name taken', 502: 'Host unreachable' },
      async handle({ body }) {
        return { status: 201, body: presentHost(await d.images.addHost(body)) };
      },
    }),
    route({
      method: 'get',
      path: '/golden-hosts/{name}',
      tag: 'golden',
      summary: 'One golden host',
      access: 'read',
      params: nameParams,
      responses: { 200: 'The host', 404: 'No such host' },
      async handle({ params }) {
        const h = await d.store.goldenHosts.get(params.name);
        if (!h) throw notFound(`golden host ${JSON.stringify(params.name)}`);
        return { body: presentHost(h) };
      },
    }),
    route({
      method: 'delete',
      path: '/golden-hosts/{name}',
      tag: 'golden',
      summary: 'Forget a golden host (not while an image uses it)',
      access: 'write',
      params: nameParams,
      responses: { 200: 'The host', 404: 'No such host', 409: 'Used by an image' },
      async handle({ params }) {
        return { body: presentHost(await d.images.deleteHost(params.name)) };
      },
    }),
    route({
      method: 'post',
      path: '/golden-hosts/{name}/pin',
      tag: 'golden',
      summary: "Pin the host key after checking its fingerprint; pulls need it",
      access: 'write',
      params: nameParams,
      body: pinSchema,
      responses: { 200: 'The host (pinned: true)', 400: 'Fingerprint does not match', 404: 'No such host' },
      async handle({ params, body }) {
        return { body: presentHost(await d.images.pinHost(params.name, body.fingerprint)) };
      },
    }),
    route({
      method: 'post',
      path: '/golden-hosts/{name}/rekey',
      tag: 'golden',
      summary: 'Fetch the host key again after a deliberate re-key; pulls wait until it is pinned again',
      access: 'write',
      params: nameParams,
      responses: { 200: 'The host (pinned: false)', 404: 'No such host', 502: 'Host unreachable' },
      async handle({ params }) {
        return { body: presentHost(await d.images.rekeyHost(params.name)) };
      },
    }),
    route({
      method: 'post',
      path: '/golden-hosts/{name}/check',
      tag: 'golden',
      summary: 'Preflight over SSH: kernels, seed packages, autofs, network drivers, free space, problems',
      access: 'write',
      params: nameParams,
      responses: { 200: '{report}', 404: 'No such host', 409: 'Host key not pinned', 502: 'SSH failed' },
      async handle({ params }) {
        return { body: { report: await d.images.check(params.name) } };
      },
    }),
    route({
      method: 'post',
      path: '/golden-hosts/{name}/prepare',
      tag: 'golden',
      summary: 'Show (and with apply: true write) the dracut configuration for network roots on the golden host',
      access: 'write',
      params: nameParams,
      body: z.strictObject({ apply: z.boolean().default(false), drivers: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)).optional() }).optional(),
      responses: { 200: '{plan, applied}', 404: 'No such host', 409: 'Host key not pinned', 502: 'SSH failed' },
      async handle({ params, body }) {
        return { body: await d.images.prepare(params.name, body?.apply ?? false, body?.drivers) };
      },
    }),
    route({
      method: 'get',
      path: '/images',
      tag: 'images',
      summary: 'List images with their active version and version counts',
      access: 'read',
      responses: { 200: '{items}' },
      async handle() {
        const items = [];
        for (const i of await d.store.images.list()) {
          const versions = await d.store.versions.list(i.name);
          items.push({ ...presentImage(i), versions: versions.length, readyVersions: versions.filter((v) => v.state === 'ready').length });
        }
        return { body: { items } };
      },
    }),
    route({
      method: 'post',
      path: '/images',
      tag: 'images',
      summary: 'Create an image from a golden host with its settings (excludes, rwtab, statetab, kernel args, drivers, state mode)',
      access: 'write',
      body: imageCreateSchema,
      responses: { 201: 'The image', 400: 'Invalid field', 409: 'Name taken' },
      async handle({ body }) {
        return { status: 201, body: presentImage(await d.images.createImage(body)) };
      },
    }),
    route({
      method: 'get',
      path: '/images/{name}',
      tag: 'images',
      summary: 'One image with its versions',
      access: 'read',
      params: nameParams,
      responses: { 200: 'The image', 404: 'No such image' },
      async handle({ params }) {
        const v = await versionsOf(params.name);
        return { body: { ...presentImage(v.image), versions: v.items } };
      },
    }),
    route({
      method: 'patch',
      path: '/images/{name}',
      tag: 'images',
      summary: "Change an image's golden host or settings (next pull uses them)",
      access: 'write',
      params: nameParams,
      body: imagePatchSchema,
      responses: { 200: 'The image', 400: 'Invalid field', 404: 'No such image' },
      async handle({ params, body }) {
        return { body: presentImage(await d.images.updateImage(params.name, body)) };
      },
    }),
    route({
      method: 'get',
      path: '/images/{name}/versions',
      tag: 'images',
      summary: 'Versions of an image: state, size, kernel, which nodes run or pin each',
      access: 'read',
      params: nameParams,
      responses: { 200: '{items}', 404: 'No such image' },
      async handle({ params }) {
        return { body: { items: (await versionsOf(params.name)).items } };
      },
    }),
    route({
      method: 'post',
      path: '/images/{name}/pull',
      tag: 'images',
      summary: 'Pull a new version from the golden host (a job: rsync, clean-up, read-only config, initramfs, checks); with nothing changed since the version it would link to, the job ends with unchanged: true and no new version, unless force is set',
      access: 'write',
      params: nameParams,
      body: z.strictObject({ force: z.boolean().optional() }).optional(),
      responses: { 202: '{job}', 400: 'Image not ready to pull', 404: 'No such image', 409: 'A pull runs already, or the host key is not pinned' },
      async handle({ params, token, body }) {
        return { status: 202, body: { job: presentJob(await d.images.pull(params.name, token?.name ?? null, { force: body?.force === true })) } };
      },
    }),
    route({
      method: 'post',
      path: '/images/{name}/publish',
      tag: 'images',
      summary: 'Make a ready version active: nodes boot it next time (old versions past images.keep are removed)',
      access: 'write',
      params: nameParams,
      body: z.strictObject({ version: nameField }),
      responses: { 200: 'The image', 404: 'No such image', 409: 'Version not ready' },
      async handle({ params, body }) {
        return { body: presentImage(await d.images.publish(params.name, body.version)) };
      },
    }),
    route({
      method: 'post',
      path: '/images/{name}/rollback',
      tag: 'images',
      summary: 'Make an earlier ready version active (default: the one before the active)',
      access: 'write',
      params: nameParams,
      body: z.strictObject({ version: nameField.optional() }).optional(),
      responses: { 200: 'The image', 404: 'No such image', 409: 'No earlier ready version' },
      async handle({ params, body }) {
        return { body: presentImage(await d.images.rollback(params.name, body?.version)) };
      },
    }),
    route({
      method: 'delete',
      path: '/images/{name}/versions/{version}',
      tag: 'images',
      summary: 'Remove a version (never the active, a pinned or a building one)',
      access: 'write',
      params: z.strictObject({ name: nameField, version: nameField }),
      responses: { 204: 'Removed', 404: 'No such version', 409: 'Active, pinned or building' },
      async handle({ params }) {
        await d.images.deleteVersion(params.name, params.version);
        return { status: 204 };
      },
    }),
    route({
      method: 'get',
      path: '/jobs',
      tag: 'jobs',
      summary: 'Jobs, newest first (filter by target, e.g. image:centos7, and state)',
      access: 'read',
      query: z.strictObject({
        target: z.string().max(200).optional(),
        state: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(50),
      }),
      responses: { 200: '{items}' },
      async handle({ query }) {
        return { body: { items: (await d.store.jobs.list(query)).map(presentJob) } };
      },
    }),
    route({
      method: 'get',
      path: '/jobs/{id}',
      tag: 'jobs',
      summary: 'One job: state, step, progress, log, result or error',
      access: 'read',
      params: z.strictObject({ id: z.coerce.number().int().min(1) }),
      responses: { 200: 'The job', 404: 'No such job' },
      async handle({ params }) {
        const j = await d.store.jobs.get(params.id);
        if (!j) throw notFound(`job ${params.id}`);
        return { body: presentJob(j) };
      },
    }),
    route({
      method: 'post',
      path: '/jobs/{id}/cancel',
      tag: 'jobs',
      summary: 'Stop a running job (a pull leaves its version failed, the active one serving)',
      access: 'write',
      params: z.strictObject({ id: z.coerce.number().int().min(1) }),
      responses: { 202: 'Cancelling', 404: 'No such running job' },
      async handle({ params }) {
        if (!d.jobs.cancel(params.id)) throw notFound(`running job ${params.id}`);
        return { status: 202, body: { id: params.id, cancelling: true } };
      },
    }),
  ];
}
