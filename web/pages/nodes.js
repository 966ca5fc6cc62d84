// Nodes: a server-side paged, sorted and filtered table (fast with 10,000 nodes: only one page
// is fetched and drawn). Filters live in the URL (#/nodes?search=..&image=..) so views can be shared.
import { enc, get, qs, session } from '../api.js';
import { ago, banner, clear, h, loadError, stateBadge, fill } from '../dom.js';
import { openNodeForm } from '../components/node-form.js';
import { nodeButtons } from '../components/node-actions.js';
import { openImport } from '../components/import.js';
import { liveStream } from '../sse.js';

const COLUMNS = [
  { key: 'fqdn', label: 'FQDN', sort: 'fqdn' },
  { key: 'mac', label: 'MAC', sort: 'mac' },
  { key: 'ipv4', label: 'IP', sort: 'ipv4' },
  { key: 'image', label: 'Image', sort: 'image' },
  { key: 'bootMode', label: 'Boot' },
  { key: 'last', label: 'Last boot step', sort: 'lastEventAt' },
  { key: 'state', label: 'State' },
];
const PAGE_SIZES = [25, 50, 100, 250];
// GET /nodes?state=: the boot state the server derives (same rule as the State column).
const STATES = [['', 'All'], ['booted', 'Booted'], ['booting', 'Booting'], ['stuck', 'Stuck'], ['never', 'Never booted']];
const STEP = {
  'dhcp.discover': 'DHCP discover',
  'dhcp.offer': 'DHCP offer',
  'dhcp.request': 'DHCP request',
  'dhcp.ack': 'DHCP ack',
  'dhcp.nak': 'DHCP nak',
  'dhcp.decline': 'DHCP decline',
  'dhcp.release': 'DHCP release',
  'dhcp.inform': 'DHCP inform',
  'dhcp.refused': 'DHCP refused (bad address)',
  'tftp.file': 'TFTP file',
  'http.script': 'iPXE script',
  'http.kernel': 'kernel',
  'http.initrd': 'initramfs',
  'http.file': 'HTTP file',
  booted: 'booted',
};
export const stepLabel = (kind) => STEP[kind] || kind;
// A registered address DHCP will not give under the running config (GET /nodes: addressProblem).
export const addressBadge = (n) => (n.addressProblem ? h('span', { class: 'badge addr-bad', title: n.addressProblem }, 'bad address') : null);

export function renderNodes(main, { query }) {
  const st = {
    search: query.get('search') || '',
    image: query.get('image') || '',
    enabled: query.get('enabled') || '',
    state: STATES.some(([v]) => v === query.get('state')) ? query.get('state') : '',
    sort: query.get('sort') || 'fqdn',
    order: query.get('order') === 'desc' ? 'desc' : 'asc',
    limit: PAGE_SIZES.includes(Number(query.get('limit'))) ? Number(query.get('limit')) : 50,
    offset: Math.max(0, Number(query.get('offset')) || 0),
  };
  let ctrl = null;
  let rows = new Map();

  const search = h('input', { id: 'f-search', type: 'search', value: st.search, placeholder: 'FQDN, MAC or IP', autocomplete: 'off' });
  const imageSel = h('select', { id: 'f-image' }, h('option', { value: '' }, 'All images'));
  const enabledSel = h('select', { id: 'f-enabled' }, [['', 'All'], ['true', 'Enabled'], ['false', 'Disabled']].map(([v, l]) => h('option', { value: v, selected: v === st.enabled }, l)));
  const stateSel = h('select', { id: 'f-state' }, STATES.map(([v, l]) => h('option', { value: v, selected: v === st.state }, l)));
  const sizeSel = h('select', { id: 'f-size' }, PAGE_SIZES.map((n) => h('option', { value: n, selected: n === st.limit }, String(n))));
  const count = h('p', { class: 'count', 'aria-live': 'polite', id: 'nodes-count' });
  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: 'data nodes', 'aria-describedby': 'nodes-count' }, h('caption', { class: 'sr-only' }, 'Registered nodes'), thead, tbody);
  const prev = h('button', { type: 'button', onclick: () => go(st.offset - st.limit) }, '← Previous');
  const next = h('button', { type: 'button', onclick: () => go(st.offset + st.limit) }, 'Next →');
  const pageInfo = h('span', { class: 'muted' });

  main.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Nodes'),
      session.canWrite
        ? h(
            'div',
            { class: 'btns' },
            h('button', { type: 'button', class: 'primary', id: 'add-node', onclick: () => openNodeForm({ mode: 'create', onSaved: (n) => (banner(`Registered ${n.fqdn}.`, 'ok'), load()) }) }, 'Register node'),
            h('button', { type: 'button', id: 'import-nodes', onclick: () => openImport({ onDone: load }) }, 'Import…'),
          )
        : null,
    ),
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'f-search' }, 'Search'), search),
      h('div', { class: 'field' }, h('label', { for: 'f-image' }, 'Image'), imageSel),
      h('div', { class: 'field' }, h('label', { for: 'f-state' }, 'State'), stateSel),
      h('div', { class: 'field' }, h('label', { for: 'f-enabled' }, 'Enabled'), enabledSel),
      h('div', { class: 'field' }, h('label', { for: 'f-size' }, 'Per page'), sizeSel),
    ),
    count,
    h('div', { class: 'table-wrap' }, table),
    h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, pageInfo, next),
  );

  get('/images')
    .then((r) => {
      for (const i of r.items) imageSel.append(h('option', { value: i.name, selected: i.name === st.image }, i.name));
    })
    .catch(() => {});

  let timer;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => ((st.search = search.value.trim()), go(0)), 250);
  });
  imageSel.addEventListener('change', () => ((st.image = imageSel.value), go(0)));
  enabledSel.addEventListener('change', () => ((st.enabled = enabledSel.value), go(0)));
  stateSel.addEventListener('change', () => ((st.state = stateSel.value), go(0)));
  sizeSel.addEventListener('change', () => ((st.limit = Number(sizeSel.value)), go(0)));

  function drawHead() {
    fill(thead, 
      h(
        'tr',
        {},
        COLUMNS.map((c) => {
          if (!c.sort) return h('th', { scope: 'col' }, c.label);
          const active = st.sort === c.sort;
          return h(
            'th',
            { scope: 'col', 'aria-sort': active ? (st.order === 'asc' ? 'ascending' : 'descending') : 'none' },
            h('button', { type: 'button', class: 'sort', onclick: () => ((st.order = active && st.order === 'asc' ? 'desc' : 'asc'), (st.sort = c.sort), go(0)) }, c.label, h('span', { 'aria-hidden': 'true', class: 'arrow' }, active ? (st.order === 'asc' ? ' ▲' : ' ▼') : '')),
          );
        }),
        session.canWrite ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')) : null,
      ),
    );
  }

  function go(offset) {
    st.offset = Math.max(0, offset);
    const q = qs({ search: st.search, image: st.image, enabled: st.enabled, state: st.state, sort: st.sort === 'fqdn' ? '' : st.sort, order: st.order === 'asc' ? '' : 'desc', limit: st.limit === 50 ? '' : st.limit, offset: st.offset || '' });
    history.replaceState(null, '', `#/nodes${q}`);
    load();
  }

  function row(n) {
    const tr = h(
      'tr',
      { 'data-mac': n.mac, class: n.enabled ? null : 'disabled' },
      h('td', {}, h('a', { href: `#/nodes/${enc(n.mac)}` }, n.fqdn), n.enabled ? null : h('span', { class: 'badge off' }, 'disabled')),
      h('td', { class: 'mono' }, n.mac),
      h('td', { class: 'mono' }, h('span', {}, n.ipv4), addressBadge(n)),
      h('td', {}, n.image ? [n.image, n.pinnedVersion ? h('span', { class: 'muted' }, ` @ ${n.pinnedVersion} (pinned)`) : h('span', { class: 'muted' }, ' @ active')] : h('span', { class: 'muted' }, 'none'),
        n.running ? h('div', { class: 'muted small' }, 'runs ', h('span', { class: 'mono ver' }, n.running.version)) : null),
      h('td', {}, n.bootMode),
      h('td', { class: 'last' }, n.lastEvent ? [stepLabel(n.lastEvent.kind), ' ', h('span', { class: 'muted' }, ago(n.lastEvent.at))] : h('span', { class: 'muted' }, '—')),
      h('td', { class: 'state' }, stateBadge(n.bootState)),
      session.canWrite ? h('td', { class: 'row-actions' }, nodeButtons(n, { compact: true, onChanged: load, onDeleted: load })) : null,
    );
    return tr;
  }

  async function load() {
    ctrl?.abort();
    ctrl = new AbortController();
    drawHead();
    try {
      const r = await get(`/nodes${qs({ search: st.search, image: st.image, enabled: st.enabled, state: st.state, sort: st.sort, order: st.order, limit: st.limit, offset: st.offset })}`, { signal: ctrl.signal });
      if (r.items.length === 0 && st.offset > 0 && r.total > 0) return go(Math.floor((r.total - 1) / st.limit) * st.limit);
      rows = new Map();
      clear(tbody);
      for (const n of r.items) {
        const tr = row(n);
        rows.set(n.mac, tr);
        tbody.append(tr);
      }
      if (r.items.length === 0) tbody.append(h('tr', {}, h('td', { colspan: COLUMNS.length + 1, class: 'empty' }, st.search || st.image || st.enabled || st.state ? 'No node matches these filters.' : 'No nodes registered yet.')));
      const from = r.total === 0 ? 0 : st.offset + 1;
      const to = st.offset + r.items.length;
      count.textContent = `${r.total} node${r.total === 1 ? '' : 's'}${st.search || st.image || st.enabled || st.state ? ' match' : ''}`;
      pageInfo.textContent = `${from}–${to} of ${r.total}`;
      prev.disabled = st.offset === 0;
      next.disabled = to >= r.total;
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(tbody, h('tr', {}, h('td', { colspan: COLUMNS.length + 1 }, loadError(e))));
    }
  }

  // Live: a boot event for a node on this page updates its last step and state in place.
  const stream = liveStream('/events/stream', {
    boot(ev) {
      const tr = rows.get(ev.mac);
      if (!tr) return;
      fill(tr.querySelector('td.last'), stepLabel(ev.kind), ' ', h('span', { class: 'muted' }, ago(ev.at)));
      fill(tr.querySelector('td.state'), stateBadge(ev.kind === 'booted' ? 'booted' : 'booting'));
    },
  });

  load();
  return () => {
    ctrl?.abort();
    clearTimeout(timer);
    stream.close();
  };
}
