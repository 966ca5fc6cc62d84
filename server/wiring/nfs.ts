/**
 * The NFS side in the service: the export table rendered from the registry (kernel nfsd or
 * Ganesha backend) and one state directory per node FQDN that follows the node (created, renamed,
 * archived on delete, restorable). A reconciler keeps both equal to the registry: at start, after
 * registry changes (debounced) and on demand, so a crash mid-import or a directory removed by hand
 * is repaired, and reported (health degraded, per node) until it is.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from 'pino';
import { ExportManager, GaneshaBackend, KernelNfsBackend, type ApplyResult, type ExportInput, type NfsBackend } from '../../exports/nfs/index.js';
import { StateDirectories } from '../../exports/state/index.js';
import { Reconciler, type ReconcileCheck, type ReconcileReport } from '../../exports/reconcile/index.js';
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
  reconciler: Reconciler;
  routes: RouteDef[];
  /** Before the service serves: notes the state directories no node owns (what a run that died
   * mid-delete left), for the start pass to archive. */
  recover(): Promise<void>;
  start(): Promise<void>;
  /** Something the NFS side depends on changed outside the registry (an image published). */
  schedule(): void;
  close(): Promise<void>;
}

function backendFor(c: Config): NfsBackend | null {
  const n = c.nfs;
  if (n.backend === 'kernel') {
    return new KernelNfsBackend({ filePath: n.kernel.exportsFile, etcExportsPath: n.kernel.etcExports, etabPath: n.kernel.etab, exportfs: n.kernel.exportfs });
  }
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
    rootExport: config.nfs.rootExport,
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

  const reconciler = new Reconciler({
    input,
    state,
    // Asked inside the lock just before creating: the registry as it is then decides.
    async prepare(fqdn) {
      const n = await deps.store.nodes.getByFqdn(fqdn);
      return n && n.stateMode === 'nfs' ? stateSeed(n) : null;
    },
    apply: manager ? () => manager.applyNow() : null,
    exported: backend ? () => backend.readExported() : null,
    debounceMs: config.nfs.debounceMs,
    logger: log,
  });

  deps.registry.onChange(async (c) => {
    try {
      if (c.type === 'created') {
        // One directory: made before the request answers. An import's are made by the pass below.
        const r = await reconciler.ensure(c.node.fqdn);
        if (r?.created) log.info({ fqdn: c.node.fqdn, precreated: r.precreated }, 'nfs: state directory created');
      } else if (c.type === 'updated') {
        if (c.before.fqdn !== c.node.fqdn) {
          await reconciler.exclusive(async () => {
            if (!(await state.exists(c.before.fqdn))) return;
            const r = await state.rename(c.before.fqdn, c.node.fqdn, { replaceEmpty: true });
            log.info({ from: c.before.fqdn, to: c.node.fqdn, replacedEmpty: r.replaced }, 'nfs: state directory renamed');
          });
        }
        await reconciler.ensure(c.node.fqdn);
      } else if (c.type === 'deleted') {
        await reconciler.exclusive(async () => {
          // Stop serving it first: Ganesha would otherwise keep exporting the moved directory.
          if (manager) await manager.applyNow();
          if (await state.exists(c.node.fqdn)) {
            const a = await state.archive(c.node.fqdn);
            log.info({ fqdn: c.node.fqdn, archive: a.name }, 'nfs: state directory archived');
          }
        });
      }
    } catch (err) {
      log.error({ err, change: c.type }, 'nfs: state directory step failed; the reconciler reports it');
    }
    reconciler.schedule();
  });

  const RECONCILE_HINT = 'POST /api/v1/exports/reconcile or `netroot exports reconcile`';
  deps.health.register('nfs', async () => {
    const c = await reconciler.check();
    const last = manager?.lastResult() ?? null;
    const base = {
      backend: config.nfs.backend,
      missing: c.lacking.length,
      orphans: c.orphans.length,
      lastApply: last?.at ?? null,
      lastReconcile: reconciler.status().last?.at ?? null,
    };
    if (c.error) return { status: 'degraded', ...base, detail: c.error };
    if (c.lacking.length) {
      const first = c.lacking[0]!;
      const what = manager ? 'a state directory or export' : 'a state directory';
      return { status: 'degraded', ...base, detail: `${c.lacking.length} node(s) missing ${what} (first: ${first.fqdn}, ${first.reason}); ${RECONCILE_HINT}` };
    }
    if (last && !last.ok) return { status: 'degraded', ...base, detail: last.error ?? 'last apply failed' };
    if (c.otherMissing.length) return { status: 'degraded', ...base, detail: `not exported yet: ${c.otherMissing.slice(0, 3).join(', ')}; ${RECONCILE_HINT}` };
    if (!manager) return { status: 'off', ...base, detail: 'nfs.backend is "none"' };
    return { status: 'ok', ...base };
  });

  const requireManager = () => {
    if (!manager) throw new AppError(ErrorCode.Unavailable, 'NFS exports are not managed (nfs.backend is "none")');
    return manager;
  };
  const presentApply = (r: ApplyResult | null) => (r ? { ...r, at: new Date(r.at).toISOString() } : null);
  // Lists are capped: after a crash during a 10,000-node import every node may lack something.
  const CAP = 1000;
  const presentCheck = (c: ReconcileCheck) => ({
    ...c,
    lacking: c.lacking.slice(0, CAP),
    lackingTotal: c.lacking.length,
    orphans: c.orphans.slice(0, CAP),
    orphansTotal: c.orphans.length,
  });
  const presentReport = (r: ReconcileReport | null) =>
    (r ? { ...r, ...presentCheck(r), archived: r.archived.slice(0, CAP), archivedTotal: r.archived.length } : null);
  const reconcileStatus = async () => {
    const st = reconciler.status();
    return { running: st.running, pending: st.pending, now: presentCheck(await reconciler.check()), last: presentReport(st.last) };
  };

  const routes: RouteDef[] = [
    route({
      method: 'get',
      path: '/exports',
      tag: 'exports',
      summary: 'The export table rendered from the registry, the last apply, and the reconciler: what each node lacks now and the last pass',
      access: 'read',
      responses: { 200: '{backend, filePath, rendered, inputError, lastApply, pending, reconcile: {running, pending, now, last}}' },
      async handle() {
        const reconcile = await reconcileStatus();
        if (!manager) return { body: { backend: 'none', filePath: null, rendered: null, inputError: null, lastApply: null, pending: reconcile.pending, reconcile } };
        const s = await manager.status();
        return {
          body: {
            backend: s.backend, filePath: s.filePath, rendered: s.rendered, inputError: s.inputError, lastApply: presentApply(s.lastApply),
            pending: s.pending || reconcile.pending, reconcile,
          },
        };
      },
    }),
    route({
      method: 'post',
      path: '/exports/reconcile',
      tag: 'exports',
      summary: 'Compare registry, state directories and export table now: create what is missing, apply the table, report per node what is still lacking',
      access: 'write',
      responses: { 200: 'The pass: {ok, created, createFailed, apply, lacking (per node, with the reason), orphans, ...}' },
      async handle() {
        return { body: presentReport(await reconciler.run('demand')) };
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
          const r = await reconciler.exclusive(() => state.restore(params.name, body?.fqdn));
          reconciler.schedule();
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
    reconciler,
    routes,
    async recover() {
      const names = await reconciler.takeLeftovers();
      if (names.length) log.warn({ count: names.length, first: names.slice(0, 10) }, 'nfs: state directories no node owns; the start pass archives them');
    },
    async start() {
      // Not awaited: the service answers while the first pass repairs what a crash left; health
      // says degraded until it is done.
      void reconciler.run('start');
    },
    schedule: () => reconciler.schedule(),
    async close() {
      await reconciler.close();
      await manager?.close();
    },
  };
}
