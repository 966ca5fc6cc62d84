// Exports: the rendered NFS export table, the last apply result, a dry-run diff.
import { ApiError, api, get, session } from '../api.js';
import { banner, clear, h, loadError, notConfigured, when } from '../dom.js';

export function renderExports(main) {
  const body = h('div');
  const diff = h('div', { id: 'export-diff', 'aria-live': 'polite' });
  main.append(h('h1', {}, 'Exports'), body, diff);

  async function dryRun(btn) {
    btn.disabled = true;
    try {
      const r = await api('POST', '/exports/apply?dryRun=1');
      clear(diff).append(
        h('h2', {}, 'Dry run'),
        r.diff ? h('pre', { class: 'code diff' }, r.diff.split('\n').map((l) => h('span', { class: l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : null }, `${l}\n`))) : h('p', {}, 'No change: the applied table matches the database.'),
      );
    } catch (e) {
      banner(`Dry run failed: ${e.message}`, 'error');
    } finally {
      btn.disabled = false;
    }
  }

  async function load() {
    try {
      const x = await get('/exports');
      const la = x.lastApply;
      const dry = h('button', { type: 'button', id: 'dry-run', onclick: (e) => dryRun(e.currentTarget) }, 'Dry run (show diff)');
      clear(body).append(
        h('dl', { class: 'facts' },
          h('dt', {}, 'Backend'), h('dd', {}, x.backend),
          h('dt', {}, 'Last apply'), h('dd', {}, la ? [h('span', { class: `badge ${la.ok ? 'st-booted' : 'st-stuck'}` }, la.ok ? 'ok' : 'failed'), ' ', when(la.at), la.error ? h('p', { class: 'form-error' }, la.error) : null] : 'never'),
        ),
        session.canWrite ? h('p', {}, dry) : null,
        h('h2', {}, 'Rendered export table'),
        h('pre', { class: 'code', id: 'exports-rendered' }, x.rendered || '(empty)'),
      );
    } catch (e) {
      clear(body).append(e instanceof ApiError && e.status === 404 ? notConfigured('NFS exports') : loadError(e));
    }
  }
  load();
}
