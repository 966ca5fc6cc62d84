import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GaneshaBackend } from './ganesha.js';
import { parseGaneshaExportIds } from './ganesha-format.js';
import { buildExportTable } from './table.js';
import type { ExportNode } from './types.js';

const LOG_PREFIX = '26/11/2026 15:24:42 : epoch 6b084f2f : vm : nfs-ganesha-7202[sigmgr] ';

interface Env {
  dir: string;
  hups: number;
  /** CRIT lines the next reload logs (after the completion line, like config_errs_to_log). */
  nextErrors: string[];
  backend: (extra?: Partial<ConstructorParameters<typeof GaneshaBackend>[0]>) => GaneshaBackend;
  table: (nodes: ExportNode[]) => ReturnType<typeof buildExportTable>;
}

async function env(): Promise<Env> {
  const dir = await mkdtemp(join(tmpdir(), 'nr-ganesha-'));
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'state/a.x'), { recursive: true });
  await mkdir(join(dir, 'state/b.x'), { recursive: true });
  await writeFile(join(dir, 'pid'), '4242\n');
  await writeFile(join(dir, 'log'), `${LOG_PREFIX}nfs_start :NFS STARTUP :EVENT :NFS SERVER INITIALIZED\n`);
  await writeFile(join(dir, 'ganesha.conf'), `NFSV4 { Only_Numeric_Owners = true; }\n%include "${join(dir, 'netroot.conf')}"\n`);
  const e: Env = {
    dir, hups: 0, nextErrors: [],
    backend: (extra = {}) => new GaneshaBackend({
      filePath: join(dir, 'netroot.conf'), pidFile: join(dir, 'pid'), logPath: join(dir, 'log'), mainConfigPath: join(dir, 'ganesha.conf'),
      reloadTimeoutMs: 5000, settleMs: 50,
      kill: (pid, sig) => {
        if (pid !== 4242) throw Object.assign(new Error('ESRCH'), { code: 'ESRCH' });
        if (sig !== 'SIGHUP') return;
        e.hups++;
        const errs = e.nextErrors;
        e.nextErrors = [];
        // Ganesha logs from its own thread, a little later.
        setTimeout(() => {
          const lines = [
            'sigmgr_thread :MAIN :EVENT :SIGHUP_HANDLER: Received SIGHUP.... initiating export list reload',
            'reread_exports :CONFIG :EVENT :Reread exports complete',
            ...errs,
          ];
          void appendFile(join(dir, 'log'), lines.map((l) => LOG_PREFIX + l + '\n').join(''));
        }, 10);
      },
      ...extra,
    }),
    table: (nodes) => buildExportTable({ imagesDir: join(dir, 'images'), stateDir: join(dir, 'state'), nodeNetworks: ['10.53.0.0/16'], nodes }),
  };
  return e;
}

const A: ExportNode = { fqdn: 'a.x', ipv4: '10.53.1.5', enabled: true, stateMode: 'nfs' };
const B: ExportNode = { fqdn: 'b.x', ipv4: '10.53.1.6', enabled: true, stateMode: 'nfs' };

test('apply writes the EXPORT blocks, sends SIGHUP and confirms from the log', async () => {
  const e = await env();
  try {
    const r = await e.backend().apply(e.table([A]));
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(r.warnings, []);
    assert.equal(e.hups, 1);
    const text = await readFile(join(e.dir, 'netroot.conf'), 'utf8');
    assert.match(text, /CLIENT \{ Clients = 10\.53\.1\.5; Access_Type = RW; Protocols = 4; \}/);
  } finally {
    await rm(e.dir, { recursive: true, force: true });
  }
});

test('Export_Id of a path survives later applies (Ganesha refuses a path change under one id)', async () => {
  const e = await env();
  try {
    const be = e.backend();
    await be.apply(e.table([B]));
    const first = parseGaneshaExportIds(await readFile(join(e.dir, 'netroot.conf'), 'utf8'));
    await be.apply(e.table([A, B]));
    const second = parseGaneshaExportIds(await readFile(join(e.dir, 'netroot.conf'), 'utf8'));
    const bPath = join(e.dir, 'state/b.x');
    assert.equal(second.get(bPath), first.get(bPath));
    assert.equal(new Set(second.values()).size, 3);
  } finally {
    await rm(e.dir, { recursive: true, force: true });
  }
});

test('a reload that logs errors restores the previous file and reloads again', async () => {
  const e = await env();
  try {
    const be = e.backend();
    assert.equal((await be.apply(e.table([A]))).ok, true);
    const before = await readFile(join(e.dir, 'netroot.conf'), 'utf8');
    e.nextErrors = ['fsal_cfg_commit :CONFIG :CRIT :Could not create export for (/x) to (/x)'];
    const r = await be.apply(e.table([A, B]));
    assert.equal(r.ok, false);
    assert.match(r.error!, /Could not create export/);
    assert.equal(await readFile(join(e.dir, 'netroot.conf'), 'utf8'), before);
    assert.equal(e.hups, 3);
  } finally {
    await rm(e.dir, { recursive: true, force: true });
  }
});

test('no confirmation in the log within the timeout is a failure', async () => {
  const e = await env();
  try {
    const be = e.backend({ kill: () => undefined, reloadTimeoutMs: 300 });
    const r = await be.apply(e.table([A]));
    assert.equal(r.ok, false);
    assert.match(r.error!, /Reread exports complete/);
  } finally {
    await rm(e.dir, { recursive: true, force: true });
  }
});

test('Ganesha not running: the file is written for its start, with a warning', async () => {
  const e = await env();
  try {
    await writeFile(join(e.dir, 'pid'), '999999\n');
    const r = await e.backend().apply(e.table([A]));
    assert.equal(r.ok, true);
    assert.ok(r.warnings.some((w) => w.includes('not running')));
    assert.equal(e.hups, 0);
    assert.match(await readFile(join(e.dir, 'netroot.conf'), 'utf8'), /EXPORT/);
  } finally {
    await rm(e.dir, { recursive: true, force: true });
  }
});

test('a main config without the %include or Only_Numeric_Owners is warned about', async () => {
  const e = await env();
  try {
    await writeFile(join(e.dir, 'ganesha.conf'), 'NFS_CORE_PARAM { Protocols = 4; }\n# Only_Numeric_Owners = true;\n');
    const r = await e.backend().apply(e.table([A]));
    assert.equal(r.ok, true);
    assert.ok(r.warnings.some((w) => w.includes('does not %include')));
    assert.ok(r.warnings.some((w) => w.includes('Only_Numeric_Owners')));
  } finally {
    await rm(e.dir, { recursive: true, force: true });
  }
});
