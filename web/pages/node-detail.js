// Node detail: fields, boot timeline (live over SSE while the node boots), rendered iPXE script
// and kernel command line.
import { ApiError, enc, get } from '../api.js';
import { add, ago, clear, fill, h, loadError, notConfigured, stateBadge, when } from '../dom.js';
import { nodeButtons } from '../components/node-actions.js';
import { addressBadge, stepLabel } from './nodes.js';
import { liveStream } from '../sse.js';

// The steps of one boot, in order, for the progress strip (DESIGN.md "The boot, step by step").
const STEPS = [
  ['DHCP', (k) => k.startsWith('dhcp.')],
  ['Boot loader', (k) => k === 'tftp.file'],
  ['iPXE script', (k) => k === 'http.script'],
  ['Kernel', (k) => k === 'http.kernel'],
  ['Initramfs', (k) => k === 'http.initrd'],
  ['Booted', (k) => k === 'booted'],
];

function detailText(d) {
  if (!d || typeof d !== 'object') return '';
  return Object.entries(d)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(' ');
}

export function renderNodeDetail(main, { parts }) {
  const key = parts[1];
  const head = h('div', { class: 'page-head' }, h('h1', {}, key));
  const facts = h('dl', { class: 'facts' });
  const strip = h('ol', { class: 'steps', 'aria-label': 'Latest boot progress' });
  const list = h('ol', { class: 'timeline', id: 'timeline', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  const bootBox = h('div', { id: 'boot-config' });
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/nodes' }, '← Nodes')),
    head,
    facts,
    h('section', { 'aria-labelledby': 'tl-title' }, h('h2', { id: 'tl-title' }, 'Boot timeline'), strip, list),
    h('section', { 'aria-labelledby': 'bc-title' }, h('h2', { id: 'bc-title' }, 'Boot configuration'), bootBox),
  );

  let node = null;
  let lastId = 0;
  const events = [];
  let stream = null;
  let closed = false;

  function drawNode(n) {
    node = n;
    fill(head, h('h1', {}, n.fqdn, ' ', stateBadge(n.bootState), n.enabled ? null : h('span', { class: 'badge off' }, 'disabled')), nodeButtons(n, { onChanged: load, onDeleted: () => (location.hash = '#/nodes') }));
    const row = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
    fill(facts, 
      ...row('MAC', h('span', { class: 'mono' }, n.mac)),
      ...row('IPv4', [h('span', { class: 'mono' }, n.ipv4), addressBadge(n), n.addressProblem ? h('p', { class: 'notice error', id: 'address-problem' }, `Not a usable address for this node (DHCP will not give it): ${n.addressProblem}.`) : null]),
      ...row('Image', n.image ? `${n.image}${n.pinnedVersion ? ` @ ${n.pinnedVersion} (pinned)` : ' @ active version'}` : 'none'),
      // What the node itself said it runs (its kernel command line, in its "booted" report).
      ...row('Runs', n.running ? h('span', { id: 'runs' }, `${n.running.image} `, h('span', { class: 'mono ver' }, n.running.version), ' since ', ago(n.running.since)) : h('span', { class: 'muted', id: 'runs' }, 'not reported yet')),
      ...row('Boot mode', n.bootMode),
      ...row('State', n.stateMode === 'nfs' ? `NFS: state/${n.fqdn}/` : 'local disk'),
      ...row('Kernel args', n.kernelArgs ? h('code', {}, n.kernelArgs) : h('span', { class: 'muted' }, 'none')),
      ...row('Last booted', ago(n.lastBootedAt)),
      ...row('Registered', when(n.createdAt)),
    );
  }

  function drawStrip() {
    // The latest boot starts at the last DHCP discover (or the first event we have).
    let start = 0;
    for (let i = events.length - 1; i >= 0; i--) if (events[i].kind === 'dhcp.discover') (start = i), (i = -1);
    const cur = events.slice(start);
    fill(strip, 
      ...STEPS.map(([label, match]) => {
        const hit = cur.filter((e) => match(e.kind));
        const done = hit.length > 0;
        return h('li', { class: done ? 'done' : 'todo' }, h('span', { class: 'dot', 'aria-hidden': 'true' }, done ? '✓' : ''), label, h('span', { class: 'sr-only' }, done ? ' (done)' : ' (not yet)'), done ? h('span', { class: 'muted small' }, ' ', ago(hit[hit.length - 1].at)) : null);
      }),
    );
  }

  const seen = new Set();
  function addEvents(items) {
    for (const e of items) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      lastId = Math.max(lastId, e.id);
      // Keep id order even when a refetch after a reconnect brings older events than a live one.
      let i = events.length;
      while (i > 0 && events[i - 1].id > e.id) i--;
      events.splice(i, 0, e);
      if (list.querySelector('.empty')) clear(list);
      const li = h('li', { class: `ev ev-${e.kind.replace('.', '-')}`, 'data-kind': e.kind }, h('span', { class: 'when' }, when(e.at)), h('span', { class: 'kind' }, stepLabel(e.kind)), h('span', { class: 'detail mono' }, detailText(e.detail)));
      list.insertBefore(li, list.children[i] ?? null);
    }
    if (events.length === 0) fill(list, h('li', { class: 'empty muted' }, 'No boot events yet. They appear here live while the node boots.'));
    drawStrip();
  }

  async function fetchEvents() {
    // Only what came after the last one seen: after a reconnect this fills the gap.
    const r = await get(`/nodes/${enc(node.mac)}/events?limit=300${lastId ? `&after=${lastId}` : ''}`);
    addEvents(r.items);
  }

  async function loadBoot() {
    clear(bootBox);
    try {
      const b = await get(`/nodes/${enc(node.mac)}/boot`);
      add(bootBox, 
        b.reason ? h('p', { class: 'notice' }, `Not offered a boot: ${b.reason}`) : null,
        b.image ? h('p', { id: 'boot-image' }, 'Boots ', h('strong', {}, b.image), ' version ', h('span', { class: 'mono ver' }, b.version ?? '—'), node.pinnedVersion ? ' (pinned)' : ' (the active version)') : null,
        h('h3', {}, 'Kernel command line'),
        b.cmdline ? h('pre', { class: 'code', id: 'cmdline' }, b.cmdline) : h('p', { class: 'muted' }, 'none'),
        h('h3', {}, 'iPXE script'),
        b.script ? h('pre', { class: 'code', id: 'ipxe-script' }, b.script) : h('p', { class: 'muted' }, 'none'),
      );
    } catch (e) {
      bootBox.append(e instanceof ApiError && e.status === 404 ? notConfigured('Boot script rendering') : loadError(e));
    }
  }

  async function load() {
    try {
      drawNode(await get(`/nodes/${enc(key)}`));
    } catch (e) {
      fill(facts, e instanceof ApiError && e.status === 404 ? h('p', { class: 'notice error' }, `No node ${key}.`) : loadError(e));
      return false;
    }
    loadBoot();
    return true;
  }

  (async () => {
    if (!(await load()) || closed) return;
    await fetchEvents().catch((e) => list.append(h('li', {}, loadError(e))));
    if (closed) return;
    stream = liveStream(`/events/stream?mac=${enc(node.mac)}`, {
      open: () => void fetchEvents().catch(() => {}),
      boot: (e) => {
        addEvents([e]);
        // The state shown (booting, booted) changes with these: fetch the node again.
        if (e.kind === 'booted' || e.kind === 'dhcp.discover' || node?.bootState !== 'booting') void load();
      },
    });
  })();

  return () => {
    closed = true;
    stream?.close();
  };
}
