import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandError, type Runner } from '../runner.js';
import { KernelNfsBackend } from './kernel.js';
import { parseExportsFile } from './kernel-format.js';
import { buildExportTable } from './table.js';
import type { ExportNode } from './types.js';

interface Fake {
  dir: string;
  file: string;
  etc: string;
  etab: string;
  calls: string[][];
  /** What the next exportfs run does. */
  mode: 'ok' | 'fail-ours' | 'fail-foreign' | 'drop-option';
  runner: Runner;
  table: (nodes: ExportNode[]) => ReturnType<typeof buildExportTable>;
}

/** A stand-in exportfs: turns the exports files into an etab, like exportfs -ra does. */
async function fake(): Promise<Fake> {
  const dir = await mkdtemp(join(tmpdir(), 'nr-kernel-'));
  await mkdir(join(dir, 'images'));
  await mkdir(join(dir, 'state/a.x'), { recursive: true });
  await mkdir(join(dir, 'state/b.x'), { recursive: true });
  const f: Fake = {
    dir, file: join(dir, 'exports.d/netroot.exports'), etc: join(dir, 'exports'), etab: join(dir, 'etab'), calls: [], mode: 'ok',
    runner: async (argv) => {
      f.calls.push([...argv]);
      if (f.mode === 'fail-ours') {
        f.mode = 'ok';
        throw new CommandError(argv, 1, 'exportfs: /etc/exports.d/netroot.exports:2: unknown keyword "bogus"\n', 'exit');
      }
      const text = (await readFile(f.file, 'utf8').catch(() => '')) + (await readFile(f.etc, 'utf8').catch(() => ''));
      const lines = parseExportsFile(text).flatMap((e) => e.clients.map((c) => {
        const opts = f.mode === 'drop-option' ? c.options.filter((o) => o !== 'no_root_squash') : c.options;
        return `${e.path}\t${c.host}(${[...opts, 'wdelay', 'sec=sys'].join(',')})`;
      }));
      await writeFile(f.etab, lines.join('\n') + '\n');
      if (f.mode === 'fail-foreign') {
        f.mode = 'ok';
        throw new CommandError(argv, 1, 'exportfs: Failed to stat /srv/elsewhere: No such file or directory\n', 'exit');
      }
      f.mode = 'ok';
      return { code: 0, stdout: '', stderr: '' };
    },
    table: (nodes) => buildExportTable({ imagesDir: join(dir, 'images'), stateDir: join(dir, 'state'), nodeNetworks: ['10.0.0.0/24'], nodes }),
  };
  return f;
}

const A: ExportNode = { fqdn: 'a.x', ipv4: '10.0.0.1', enabled: true, stateMode: 'nfs' };
const B: ExportNode = { fqdn: 'b.x', ipv4: '10.0.0.2', enabled: true, stateMode: 'nfs' };

test('apply writes the file, runs exportfs -ra and checks the etab', async () => {
  const f = await fake();
  try {
    const be = new KernelNfsBackend({ filePath: f.file, etcExportsPath: f.etc, etabPath: f.etab, runner: f.runner });
    const r = await be.apply(f.table([A]));
    assert.equal(r.ok, true, r.error);
    assert.equal(r.changed, true);
    assert.deepEqual(f.calls, [['exportfs', '-ra']]);
    assert.match(await readFile(f.file, 'utf8'), /a\.x 10\.0\.0\.1\(rw,no_root_squash,sync,no_subtree_check\)/);
    const again = await be.apply(f.table([A]));
    assert.equal(again.ok, true);
    assert.equal(again.changed, false);
  } finally {
    await rm(f.dir, { recursive: true, force: true });
  }
});

test('an exportfs error about netroot\'s file restores the previous file and re-runs exportfs', async () => {
  const f = await fake();
  try {
    const be = new KernelNfsBackend({ filePath: f.file, etcExportsPath: f.etc, etabPath: f.etab, runner: f.runner });
    assert.equal((await be.apply(f.table([A]))).ok, true);
    const before = await readFile(f.file, 'utf8');
    f.mode = 'fail-ours';
    const r = await be.apply(f.table([A, B]));
    assert.equal(r.ok, false);
    assert.match(r.error!, /unknown keyword "bogus"/);
    assert.equal(await readFile(f.file, 'utf8'), before);
    assert.equal(f.calls.length, 3);
  } finally {
    await rm(f.dir, { recursive: true, force: true });
  }
});

test('a failed first apply removes the file it created', async () => {
  const f = await fake();
  try {
    const be = new KernelNfsBackend({ filePath: f.file, etcExportsPath: f.etc, etabPath: f.etab, runner: f.runner });
    f.mode = 'fail-ours';
    const r = await be.apply(f.table([A]));
    assert.equal(r.ok, false);
    assert.deepEqual(await readdir(join(f.dir, 'exports.d')), []);
  } finally {
    await rm(f.dir, { recursive: true, force: true });
  }
});

test('a readback difference fails the apply and restores the previous table', async () => {
  const f = await fake();
  try {
    const be = new KernelNfsBackend({ filePath: f.file, etcExportsPath: f.etc, etabPath: f.etab, runner: f.runner });
    assert.equal((await be.apply(f.table([A]))).ok, true);
    const before = await readFile(f.file, 'utf8');
    f.mode = 'drop-option';
    const r = await be.apply(f.table([A, B]));
    assert.equal(r.ok, false);
    assert.ok(r.differences.some((d) => d.includes('b.x 10.0.0.2: asked rw,no_root_squash')), r.differences.join('\n'));
    assert.equal(await readFile(f.file, 'utf8'), before);
  } finally {
    await rm(f.dir, { recursive: true, force: true });
  }
});

test('an exportfs error in a file netroot does not own is a warning, not a failure', async () => {
  const f = await fake();
  try {
    const be = new KernelNfsBackend({ filePath: f.file, etcExportsPath: f.etc, etabPath: f.etab, runner: f.runner });
    f.mode = 'fail-foreign';
    const r = await be.apply(f.table([A]));
    assert.equal(r.ok, true, r.error);
    assert.ok(r.warnings.some((w) => w.includes('/srv/elsewhere')));
  } finally {
    await rm(f.dir, { recursive: true, force: true });
  }
});

test('entries in /etc/exports and other exports.d files for netroot\'s paths are reported, not touched', async () => {
  const f = await fake();
  try {
    const etc = `# site exports\n${f.dir}/state/a.x 10.9.9.9(rw)\n${f.dir} *(ro)\n/srv/unrelated 10.0.0.0/8(ro)\n`;
    await writeFile(f.etc, etc);
    await mkdir(join(f.dir, 'exports.d'));
    await writeFile(join(f.dir, 'exports.d/site.exports'), `${f.dir}/images 10.8.0.0/16(ro)\n`);
    const be = new KernelNfsBackend({ filePath: f.file, etcExportsPath: f.etc, etabPath: f.etab, runner: f.runner });
    const r = await be.apply(f.table([A]));
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(r.conflicts.map((c) => [c.file, c.line, c.kind, c.path]), [
      [f.etc, 2, 'same-path', `${f.dir}/state/a.x`],
      [f.etc, 3, 'ancestor', f.dir],
      [join(f.dir, 'exports.d/site.exports'), 1, 'same-path', `${f.dir}/images`],
    ]);
    assert.equal(await readFile(f.etc, 'utf8'), etc);
  } finally {
    await rm(f.dir, { recursive: true, force: true });
  }
});

test('a missing state dir drops that export with a warning; a missing images tree fails untouched', async () => {
  const f = await fake();
  try {
    const be = new KernelNfsBackend({ filePath: f.file, etcExportsPath: f.etc, etabPath: f.etab, runner: f.runner });
    const c = { ...B, fqdn: 'c.x', ipv4: '10.0.0.3' };
    const r = await be.apply(f.table([A, c]));
    assert.equal(r.ok, true, r.error);
    assert.ok(r.warnings.some((w) => w.includes('c.x')));
    assert.doesNotMatch(await readFile(f.file, 'utf8'), /c\.x/);
    await rm(join(f.dir, 'images'), { recursive: true });
    const before = await readFile(f.file, 'utf8');
    const r2 = await be.apply(f.table([A]));
    assert.equal(r2.ok, false);
    assert.match(r2.error!, /images tree/);
    assert.equal(await readFile(f.file, 'utf8'), before);
  } finally {
    await rm(f.dir, { recursive: true, force: true });
  }
});

test('a leftover temp file of a dead writer is removed; the file name must end in .exports', async () => {
  const f = await fake();
  try {
    await mkdir(join(f.dir, 'exports.d'));
    await writeFile(join(f.dir, 'exports.d/.netroot.exports.999999999.abcd.tmp'), 'partial');
    const be = new KernelNfsBackend({ filePath: f.file, etcExportsPath: f.etc, etabPath: f.etab, runner: f.runner });
    const r = await be.apply(f.table([A]));
    assert.ok(r.warnings.some((w) => w.includes('.tmp')));
    assert.deepEqual(await readdir(join(f.dir, 'exports.d')), ['netroot.exports']);
    assert.throws(() => new KernelNfsBackend({ filePath: join(f.dir, 'netroot.conf') }), /filePath/);
  } finally {
    await rm(f.dir, { recursive: true, force: true });
  }
});
