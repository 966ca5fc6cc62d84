/**
 * The NFS side in the service: the export table rendered from the registry (kernel nfsd or
 * Ganesha backend), applied on every registry change (debounced), and one state directory per
 * node FQDN that follows the node (created, renamed, archived on delete, restorable).
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from 'pino';
import { ExportManager, GaneshaBackend, KernelNfsBackend, type ApplyResult, type ExportInput, type NfsBackend } from '../../exports/nfs/index.js';
import { StateDirectories } from '../../exports/state/index.js';
import type { Config } from '../config/schema.js';
import type { Health } from '../health.js';
import type { Metrics } from '../metrics.js';
import type { NodeRecord, Store } from '../store/types.js';
import type { NodeRegistry } from '../registry/nodes.js';
import { route, type RouteDef } from '../api/route.js';
import { AppError, ErrorCode, notFound } from '../errors.js';
import { fqdnField } from '../registry/fields.js';

export interface NfsPart {
  manager: ExportManager | null;
  state: StateDirectories;
  routes: RouteDef[];
  start(): Promise<void>;
  /** Something the table depends on changed outside the registry (an image published). */
  schedule(): void;
  close(): Promise<void>;
}

function backendFor(c: Config): NfsBackend | null {
  const n = c.nfs;
  if (n.backend === 'kernel') return new KernelNfsBackend({ filePath: n.kernel.exportsFile, etcExportsPath: n.kernel.etcExports, etabPath: n.kernel.etab });
  if (n.backend === 'ganesha')
    return new GaneshaBackend({ filePath: n.ganesha.exportsFile, pidFile: n.ganesha.pidFile, logPath: n.ganesha.logPath, mainConfigPath: n.ganesha.mainConfig });
  return null;
}

export function createNfs(
  config: Config,
  deps: { store: Store; registry: NodeRegistry; log: Logger; health: Health; metrics: Metrics },
): NfsPart {
  const log = deps.log.child({ part: 'nfs' });
  const imagesDir = join(config.dataDir, 'images');
  const stateDir = join(config.dataDir, 'state');
  const state = new StateDirectories({ stateDir, mode: parseInt(config.nfs.stateMode, 8), uid: config.nfs.stateUid, gid: config.nfs.stateGid });
  const nodeNetworks = config.nfs.nodeNetworks.length ? config.nfs.nodeNetworks : config.dhcp.subnets.map((s) => s.cidr);

  const input = async (): Promise<ExportInput> => ({
    imagesDir,
    stateDir,
    nodeNetworks,
    ...(config.nfs.rootOptions ? { rootOptions: config.nfs.rootOptions } : {}),
    ...(config.nfs.stateOptions ? { stateOptions: config.nfs.stateOptions } : {}),
    nodes: (await deps.store.nodes.all()).map((n) => ({ fqdn: n.fqdn, ipv4: n.ipv4, enabled: n.enabled, stateMode: n.stateMode })),
  });
  const backend = backendFor(config);
  const manager = backend
    ? new ExportManager({
        backend,
        input,
        debounceMs: config.nfs.debounceMs,
        logger: log,
        onApplied: (r: ApplyResult) => {
          deps.metrics.exportApplies.inc({ backend: r.backend, result: r.ok ? 'ok' : 'failed' });
          if (r.ok) log.info({ changed: r.changed, warnings: r.warnings, conflicts: r.conflicts.length }, 'nfs: export table applied');
          else log.error({ error: r.error, differences: r.differences }, 'nfs: export apply FAILED; the previous table stays live');
        },
      })
    : null;

  /** Statetab paths of the node's image (pre-created in its state dir) and the root to copy types from. */
  async function stateSeed(n: NodeRecord): Promise<{ statetabPaths?: string[]; imageRoot?: string }> {
    // The seed's statetab always holds /var/log; an image adds its own entries.
    const seed = { statetabPaths: ['/var/log'] };
    if (!n.image) return seed;
    const image = await deps.store.images.get(n.image);
    if (!image) return seed;
    const statetab = Array.isArray(image.settings.statetab) ? image.settings.statetab.filter((p): p is string => typeof p === 'string') : [];
    const version = n.pinnedVersion ?? image.activeVersion;
    return { statetabPaths: ['/var/log', ...statetab], ...(version ? { imageRoot: join(imagesDir, image.name, version, 'root') } : {}) };
  }

  async function ensureState(n: NodeRecord): Promise<void> {
    if (n.stateMode !== 'nfs') return;
    try {
      if (!(await state.exists(n.fqdn))) {
        const r = await state.create(n.fqdn, await stateSeed(n));
        log.info({ fqdn: n.fqdn, precreated: r.precreated }, 'nfs: state directory created');
      }
    } catch (err) {
      log.error({ err, fqdn: n.fqdn }, 'nfs: could not create the state directory');
    }
  }

  deps.registry.onChange(async (c) => {
    try {
      if (c.type === 'created') await ensureState(c.node);
      else if (c.type === 'imported') for (const n of c.nodes) await ensureState(n);
      else if (c.type === 'updated') {
        if (c.before.fqdn !== c.node.fqdn && (await state.exists(c.before.fqdn))) {
          await state.rename(c.before.fqdn, c.node.fqdn);
          log.info({ from: c.before.fqdn, to: c.node.fqdn }, 'nfs: state directory renamed');
        }
        await ensureState(c.node);
      } else if (c.type === 'deleted') {
        // Stop serving it first: Ganesha would otherwise keep exporting the moved directory.
        if (manager) await manager.applyNow();
        if (await state.exists(c.node.fqdn)) {
          const a = await state.archive(c.node.fqdn);
          log.info({ fqdn: c.node.fqdn, archive: a.name }, 'nfs: state directory archived');
        }
        return;
      }
    } catch (err) {
      log.error({ err, change: c.type }, 'nfs: state directory step failed');
    }
    manager?.schedule();
  });

  deps.health.register('nfs', async () => {
    if (!manager) return { status: 'off', detail: 'nfs.backend is "none"' };
    const s = await manager.status();
    const last = s.lastApply;
    return {
      status: s.inputError || (last && !last.ok) ? 'degraded' : 'ok',
      backend: s.backend,
      ...(s.inputError ? { detail: s.inputError } : last && !last.ok ? { detail: last.error ?? 'last apply failed' } : {}),
      lastApply: last ? new Date(last.at).toISOString() : null,
    };
  });

  const requireManager = () => {
    if (!manager) throw new AppError(ErrorCode.Unavailable, 'NFS exports are not managed (nfs.backend is "none")');
    return manager;
  };
  const presentApply = (r: ApplyResult | null) => (r ? { ...r, at: new Date(r.at).toISOString() } : null);

  const routes: RouteDef[] = [
    route({
      method: 'get',
      path: '/exports',
      tag: 'exports',
      summary: 'The export table rendered from the registry, and the last apply result',
      access: 'read',
      responses: { 200: '{backend, filePath, rendered, inputError, lastApply, pending}' },
      async handle() {
        if (!manager) return { body: { backend: 'none', filePath: null, rendered: null, inputError: null, lastApply: null, pending: false } };
        const s = await manager.status();
        return { body: { backend: s.backend, filePath: s.filePath, rendered: s.rendered, inputError: s.inputError, lastApply: presentApply(s.lastApply), pending: s.pending } };
      },
    }),
    route({
      method: 'post',
      path: '/exports/apply',
      tag: 'exports',
      summary: 'Apply the export table now, or with dryRun=1 show the diff against what is on disk',
      access: 'write',
      query: z.strictObject({ dryRun: z.enum(['0', '1', 'true', 'false']).optional() }),
      responses: { 200: 'The apply result or the dry run', 503: 'No NFS backend configured' },
      async handle({ query }) {
        const m = requireManager();
        if (query.dryRun === '1' || query.dryRun === 'true') {
          const d = await m.dryRun();
          return { body: { dryRun: true, backend: d.backend, filePath: d.filePath, rendered: d.rendered, current: d.current, diff: d.diff.text, added: d.diff.added, removed: d.diff.removed, dropped: d.dropped, missingImages: d.missingImages } };
        }
        const r = await m.applyNow();
        return { status: r.ok ? 200 : 502, body: presentApply(r) };
      },
    }),
    route({
      method: 'get',
      path: '/nodes/{key}/state',
      tag: 'exports',
      summary: "The node's state directory: path and disk usage",
      access: 'read',
      params: z.strictObject({ key: z.string().min(1).max(253) }),
      responses: { 200: '{fqdn, path, exists, usage}', 404: 'No such node' },
      async handle({ params }) {
        const n = await deps.registry.find(params.key);
        const exists = await state.exists(n.fqdn);
        return { body: { fqdn: n.fqdn, stateMode: n.stateMode, path: state.path(n.fqdn), exists, usage: exists ? await state.usage(n.fqdn) : null } };
      },
    }),
    route({
      method: 'get',
      path: '/state/archive',
      tag: 'exports',
      summary: 'Archived state directories of deleted nodes',
      access: 'read',
      responses: { 200: '{items}' },
      async handle() {
        return { body: { items: await state.listArchived() } };
      },
    }),
    route({
      method: 'post',
      path: '/state/archive/{name}/restore',
      tag: 'exports',
      summary: 'Bring an archived state directory back (for its FQDN or another one)',
      access: 'write',
      params: z.strictObject({ name: z.string().min(1).max(300) }),
      body: z.strictObject({ fqdn: fqdnField.optional() }).optional(),
      responses: { 200: '{fqdn, path}', 404: 'No such archive', 409: 'A state directory exists for that FQDN' },
      async handle({ params, body }) {
        try {
          const r = await state.restore(params.name, body?.fqdn);
          manager?.schedule();
          return { body: r };
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === 'STATE_NOT_FOUND') throw notFound(`archive ${JSON.stringify(params.name)}`);
          if (code === 'STATE_EXISTS') throw new AppError(ErrorCode.Conflict, (e as Error).message);
          if (code === 'STATE_INPUT' || code === 'STATE_UNSAFE') throw new AppError(ErrorCode.Invalid, (e as Error).message, 'name');
          throw e;
        }
      },
    }),
  ];

  return {
    manager,
    state,
    routes,
    async start() {
      if (!manager) return;
      const r = await manager.applyNow();
      if (!r.ok) log.error({ error: r.error }, 'nfs: first export apply failed; fix and POST /api/v1/exports/apply');
    },
    schedule: () => manager?.schedule(),
    async close() {
      await manager?.close();
    },
  };
}
