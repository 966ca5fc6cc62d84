// Bulk import: paste CSV or JSON, preview what will change (new rows, rows already there,
// conflicts), then send only the new rows in one all-or-nothing POST /nodes/import. An API error
// names `[i].field` of the rows sent; it is shown on the row it came from.
import { ApiError, api, get, qs } from '../api.js';
import { banner, clear, h } from '../dom.js';
import { parseNodeList, previewImport } from '../csv.js';
import { modal } from './dialog.js';

const EXAMPLE = 'mac,fqdn,ipv4,image\n52:54:00:00:10:01,n01.lab.example,10.0.10.1,debian12';

async function allNodes() {
  const out = [];
  for (let offset = 0; ; offset += 10000) {
    const r = await get(`/nodes${qs({ limit: 10000, offset })}`);
    out.push(...r.items);
    if (out.length >= r.total || r.items.length === 0) return out;
  }
}

export function openImport({ onDone }) {
  const text = h('textarea', { id: 'imp-text', rows: 8, spellcheck: 'false', 'aria-describedby': 'imp-help imp-err', placeholder: EXAMPLE });
  const err = h('p', { id: 'imp-err', class: 'field-error', role: 'alert', hidden: true });
  const summary = h('p', { class: 'summary', 'aria-live': 'polite', id: 'imp-summary' });
  const preview = h('div', { class: 'table-wrap preview' });
  const previewBtn = h('button', { type: 'button', id: 'imp-preview' }, 'Preview');
  const send = h('button', { type: 'submit', class: 'primary', id: 'imp-send', disabled: true }, 'Import');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const form = h(
    'form',
    { novalidate: true },
    h('label', { for: 'imp-text' }, 'Nodes as CSV (header row first) or a JSON array'),
    text,
    h('p', { id: 'imp-help', class: 'help' }, 'CSV columns: mac, fqdn, ipv4, image, pinnedVersion, kernelArgs, bootMode, stateMode, enabled. Nothing is changed until you press Import; rows whose MAC, FQDN or IP is taken are skipped.'),
    err,
    summary,
    preview,
    h('div', { class: 'actions' }, cancel, previewBtn, send),
  );
  const { close } = modal('Import nodes', form, { id: 'import', wide: true });
  cancel.addEventListener('click', close);
  text.focus();

  let plan = null;
  const rowsEls = [];

  const showErr = (msg) => {
    err.textContent = msg;
    err.hidden = false;
    text.setAttribute('aria-invalid', 'true');
  };

  async function doPreview() {
    err.hidden = true;
    text.removeAttribute('aria-invalid');
    send.disabled = true;
    plan = null;
    clear(preview);
    summary.textContent = '';
    let rows;
    try {
      rows = parseNodeList(text.value);
    } catch (e) {
      return showErr(e.message);
    }
    try {
      plan = previewImport(rows, await allNodes());
    } catch (e) {
      return showErr(`Could not read the existing nodes: ${e.message}`);
    }
    const n = { new: 0, same: 0, conflict: 0 };
    for (const p of plan) n[p.status]++;
    summary.textContent = `${n.new} new, ${n.same} already registered (unchanged), ${n.conflict} conflict${n.conflict === 1 ? '' : 's'} (skipped).`;
    rowsEls.length = 0;
    const LABEL = { new: 'new', same: 'unchanged', conflict: 'conflict' };
    preview.append(
      h(
        'table',
        { class: 'data' },
        h('caption', { class: 'sr-only' }, 'Import preview'),
        h('thead', {}, h('tr', {}, ['#', 'Change', 'MAC', 'FQDN', 'IP', 'Image', 'Note'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          plan.map((p, i) => {
            const note = h('td', { class: 'note' }, p.reason);
            const tr = h('tr', { class: `imp-${p.status}` }, h('td', {}, String(i + 1)), h('td', {}, h('span', { class: `badge imp-${p.status}` }, LABEL[p.status])), h('td', { class: 'mono' }, p.row.mac ?? ''), h('td', {}, p.row.fqdn ?? ''), h('td', { class: 'mono' }, p.row.ipv4 ?? ''), h('td', {}, p.row.image ?? ''), note);
            rowsEls.push({ tr, note });
            return tr;
          }),
        ),
      ),
    );
    send.textContent = `Import ${n.new} new node${n.new === 1 ? '' : 's'}`;
    send.disabled = n.new === 0;
  }

  previewBtn.addEventListener('click', doPreview);
  text.addEventListener('input', () => {
    send.disabled = true;
    plan = null;
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!plan) return doPreview();
    const sent = plan.map((p, i) => [p, i]).filter(([p]) => p.status === 'new');
    send.disabled = true;
    try {
      const r = await api('POST', '/nodes/import', sent.map(([p]) => p.row));
      close();
      banner(`Imported ${r.imported} node${r.imported === 1 ? '' : 's'}.`, 'ok');
      onDone?.();
    } catch (e) {
      const m = e instanceof ApiError && e.field ? /^\[(\d+)\]\.?(.*)$/.exec(e.field) : null;
      const at = m ? sent[Number(m[1])] : undefined;
      if (at) {
        const el = rowsEls[at[1]];
        el.tr.className = 'imp-error';
        el.note.textContent = e.message.replace(/^\[\d+\]\./, '');
        showErr(`Row ${at[1] + 1}: ${e.message.replace(/^\[\d+\]\./, '')} — nothing was imported; fix the text and preview again.`);
      } else showErr(`Nothing was imported: ${e.message}`);
      send.disabled = false;
    }
  });
}
