// Exports: the rendered NFS export table, the last apply result, a dry-run diff, apply now.
import { ApiError, api, get, session } from '../api.js';
import { banner, clear, h, loadError, notConfigured, when, fill } from '../dom.js';

function applyResult(la) {
  if (!la) return 'never';
  return [
    h('span', { class: `badge ${la.ok ? 'st-booted' : 'st-stuck'}` }, la.ok ? 'ok' : 'failed'),
    ' ',
    when(la.at),
    la.changed === false ? h('span', { class: 'muted' }, ' (no change)') : null,
    la.error ? h('p', { class: 'form-error' }, la.error) : null,
    ...(la.differences || []).map((d) => h('p', { class: 'form-error' }, d)),
    ...(la.conflicts || []).map((c) => h('p', { class: 'form-error' }, typeof c === 'string' ? c : JSON.stringify(c))),
    ...(la.warnings || []).map((w) => h('p', { class: 'notice' }, w)),
  ];
}

function diffView(text) {
  return h(
    'pre',
    { class: 'code diff', id: 'export-diff-text' },
    text.split('\n').map((l) => h('span', { class: l.startsWith('+') && !l.startsWith('+++') ? 'add' : l.startsWith('-') && !l.startsWith('---') ? 'del' : null }, `${l}\n`)),
  );
}

export function renderExports(main) {
  const body = h('div');
  const diff = h('div', { id: 'export-diff', 'aria-live': 'polite' });
  main.append(h('h1', {}, 'Exports'), body, diff);

  async function dryRun(btn) {
    btn.disabled = true;
    try {
      const r = await api('POST', '/exports/apply?dryRun=1');
      fill(diff, 
        h('h2', {}, 'Dry run'),
        h('p', {}, `${r.added ?? 0} line${r.added === 1 ? '' : 's'} added, ${r.removed ?? 0} removed against `, h('code', {}, r.filePath ?? 'the applied table'), '.'),
        r.missingImages?.length ? h('p', { class: 'notice error' }, `Image versions missing on disk: ${r.missingImages.join(', ')}`) : null,
        r.dropped?.length ? h('p', { class: 'notice' }, `State exports left out (directory missing): ${r.dropped.join(', ')}`) : null,
        r.diff ? diffView(r.diff) : h('p', {}, 'No change: the applied table matches the registry.'),
      );
    } catch (e) {
      banner(`Dry run failed: ${e.message}`, 'error');
    } finally {
      btn.disabled = false;
    }
  }

  async function applyNow(btn) {
    btn.disabled = true;
    try {
      const r = await api('POST', '/exports/apply');
      banner(r.changed ? 'Export table applied.' : 'Export table applied (no change).', 'ok');
    } catch (e) {
      banner(`Apply failed: ${e.message}`, 'error');
    } finally {
      btn.disabled = false;
      load();
    }
  }

  // While a change waits for the background apply, the page looks again every 2 s, so the
  // "Pending" line goes by itself once the table is applied.
  let again = null;
  let left = false;
  async function load() {
    clearTimeout(again);
    if (left) return;
    try {
      const x = await get('/exports');
      if (x.pending && !left) again = setTimeout(load, 2000);
      if (x.backend === 'none') {
        fill(body, notConfigured('NFS exports (nfs.backend is "none")'));
        return;
      }
      fill(body, 
        h('dl', { class: 'facts' },
          h('dt', {}, 'Backend'), h('dd', {}, x.backend === 'kernel' ? 'kernel nfsd (exportfs)' : x.backend === 'ganesha' ? 'NFS-Ganesha' : x.backend),
          x.filePath ? [h('dt', {}, 'File'), h('dd', {}, h('code', {}, x.filePath))] : null,
          h('dt', {}, 'Last apply'), h('dd', { id: 'last-apply' }, applyResult(x.lastApply)),
          x.pending ? [h('dt', {}, 'Pending'), h('dd', {}, 'a change is waiting to be applied')] : null,
        ),
        x.inputError ? h('p', { class: 'notice error', role: 'alert' }, `The table cannot be built: ${x.inputError}`) : null,
        session.canWrite
          ? h('p', { class: 'btns' },
              h('button', { type: 'button', id: 'dry-run', onclick: (e) => dryRun(e.currentTarget) }, 'Dry run (show diff)'),
              h('button', { type: 'button', id: 'apply-now', onclick: (e) => applyNow(e.currentTarget) }, 'Apply now'),
            )
          : null,
        h('h2', {}, 'Rendered export table'),
        h('pre', { class: 'code', id: 'exports-rendered' }, x.rendered || '(empty)'),
      );
    } catch (e) {
      fill(body, e instanceof ApiError && e.status === 404 ? notConfigured('NFS exports') : loadError(e));
    }
  }
  load();
  return () => {
    left = true;
    clearTimeout(again);
  };
}
