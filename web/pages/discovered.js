// Discovered: MACs that asked to boot and are not registered. "Register" opens the node form
// pre-filled with the MAC; new sightings arrive live.
import { api, enc, get, qs, session } from '../api.js';
import { ago, banner, clear, h, loadError, when, fill } from '../dom.js';
import { openNodeForm } from '../components/node-form.js';
import { confirmDialog } from '../components/dialog.js';
import { liveStream } from '../sse.js';

// DHCP option 93 client architecture (RFC 4578 2.1, IANA registry).
const ARCH = { 0: 'x86 BIOS', 6: 'x86 UEFI', 7: 'x64 UEFI', 9: 'x64 UEFI', 10: 'ARM32 UEFI', 11: 'ARM64 UEFI', 16: 'x64 UEFI HTTP', 19: 'ARM64 UEFI HTTP' };
const archLabel = (a) => (a === null || a === undefined ? '—' : ARCH[a] ? `${ARCH[a]} (${a})` : String(a));
const LIMIT = 100;

export function renderDiscovered(main, { query }) {
  let offset = Math.max(0, Number(query.get('offset')) || 0);
  const count = h('p', { class: 'count', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const prev = h('button', { type: 'button', onclick: () => ((offset -= LIMIT), load()) }, '← Previous');
  const next = h('button', { type: 'button', onclick: () => ((offset += LIMIT), load()) }, 'Next →');
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Discovered')),
    h('p', { class: 'help' }, 'Machines that asked to boot but are not registered. They are not answered until registered.'),
    count,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data' },
        h('caption', { class: 'sr-only' }, 'Discovered MACs'),
        h('thead', {}, h('tr', {}, ['MAC', 'Architecture', 'Vendor class', 'User class', 'Via', 'First seen', 'Last seen', 'Seen'].map((c) => h('th', { scope: 'col' }, c)), session.canWrite ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')) : null)),
        tbody,
      ),
    ),
    h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, next),
  );

  function buttons(d) {
    if (!session.canWrite) return null;
    return h(
      'td',
      { class: 'row-actions' },
      h('span', { class: 'btns' },
        h('button', { type: 'button', class: 'small primary', 'aria-label': `Register ${d.mac}`, onclick: () => openNodeForm({ mode: 'discovered', node: { mac: d.mac }, onSaved: (n) => (banner(`Registered ${n.fqdn}.`, 'ok'), load()) }) }, 'Register'),
        h('button', { type: 'button', class: 'small', 'aria-label': `Forget ${d.mac}`, onclick: () => confirmDialog({ title: `Forget ${d.mac}?`, message: h('p', {}, 'It reappears here if it asks to boot again.'), confirmLabel: 'Forget', action: () => api('DELETE', `/discovered/${enc(d.mac)}`) }).then((ok) => ok && load()) }, 'Forget'),
      ),
    );
  }

  async function load() {
    offset = Math.max(0, offset);
    try {
      const r = await get(`/discovered${qs({ limit: LIMIT, offset })}`);
      clear(tbody);
      for (const d of r.items) {
        tbody.append(
          h('tr', { 'data-mac': d.mac },
            h('td', { class: 'mono' }, d.mac),
            h('td', {}, archLabel(d.arch)),
            h('td', { class: 'mono small' }, d.vendorClass ?? '—'),
            h('td', {}, d.userClass ?? '—'),
            h('td', {}, d.via + (d.relay ? ` (relay ${d.relay})` : '')),
            h('td', {}, when(d.firstSeen)),
            h('td', {}, ago(d.lastSeen)),
            h('td', { class: 'num' }, String(d.seenCount)),
            buttons(d),
          ),
        );
      }
      if (r.items.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'No unregistered machine has asked to boot.')));
      count.textContent = `${r.total} discovered MAC${r.total === 1 ? '' : 's'}`;
      prev.disabled = offset === 0;
      next.disabled = offset + r.items.length >= r.total;
    } catch (e) {
      fill(tbody, h('tr', {}, h('td', { colspan: 9 }, loadError(e))));
    }
  }

  // New sightings are written in batches: reload shortly after one is announced.
  let t;
  const stream = liveStream('/events/stream', {
    discovered: () => {
      clearTimeout(t);
      t = setTimeout(load, 1500);
    },
  });
  load();
  return () => {
    clearTimeout(t);
    stream.close();
  };
}
