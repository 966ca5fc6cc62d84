// Dashboard: nodes by boot state, boots per hour (24 h), current transfers, rival DHCP servers,
// service health. Refreshed every 5 s while shown.
import { ApiError, get } from '../api.js';
import { clear, h, loadError, fill } from '../dom.js';

// Health statuses: 'off' is a choice (not configured), not a failure.
const HEALTH = { ok: 'st-booted', off: 'st-never', degraded: 'st-stuck', down: 'st-stuck' };

function card(label, value, cls, href) {
  const inner = [h('span', { class: 'value' }, String(value)), h('span', { class: 'label' }, label)];
  return h('li', { class: `stat ${cls || ''}` }, href ? h('a', { href }, inner) : inner);
}

function bootsChart(perHour) {
  const max = Math.max(1, ...perHour.map((p) => p.count));
  const total = perHour.reduce((a, p) => a + p.count, 0);
  return h(
    'figure',
    { class: 'chart' },
    h(
      'ol',
      { class: 'bars', 'aria-label': `Boots per hour, last 24 hours: ${total} in total` },
      perHour.map((p) => {
        const hr = new Date(p.hour);
        const label = `${String(hr.getHours()).padStart(2, '0')}:00`;
        const bar = h('span', { class: 'bar' });
        // Through the CSSOM: a style attribute is inline style, which the CSP refuses.
        bar.style.height = `${(p.count / max) * 100}%`;
        return h('li', { title: `${label}: ${p.count} boot${p.count === 1 ? '' : 's'}`, 'aria-label': `${label}: ${p.count}` }, bar, h('span', { class: 'tick', 'aria-hidden': 'true' }, hr.getHours() % 3 === 0 ? label : ''));
      }),
    ),
    h('figcaption', {}, `Boots per hour, last 24 hours (${total} in total)`),
  );
}

export function renderDashboard(main) {
  const rivals = h('div', { id: 'rivals' });
  const counts = h('div');
  const chart = h('div');
  const transfers = h('div');
  const health = h('div');
  main.append(
    h('h1', {}, 'Dashboard'),
    rivals,
    h('section', { 'aria-labelledby': 'd-nodes' }, h('h2', { id: 'd-nodes' }, 'Nodes'), counts),
    h('div', { class: 'cols' },
      h('section', { 'aria-labelledby': 'd-boots' }, h('h2', { id: 'd-boots' }, 'Boots'), chart),
      h('section', { 'aria-labelledby': 'd-tx' }, h('h2', { id: 'd-tx' }, 'Current transfers'), transfers, h('h2', { id: 'd-health' }, 'Service health'), health),
    ),
  );

  async function load() {
    try {
      const s = await get('/stats');
      const n = s.nodes;
      fill(counts, 
        h('ul', { class: 'stats' },
          card('nodes', n.total, '', '#/nodes'),
          card('booted', n.booted, 'st-booted'),
          card('booting', n.booting, 'st-booting'),
          card('stuck', n.stuck, n.stuck ? 'st-stuck' : ''),
          card('never booted', n.never, 'st-never'),
          card('disabled', n.total - n.enabled, ''),
          card('discovered', s.discovered, s.discovered ? 'st-booting' : '', '#/discovered'),
        ),
      );
      fill(chart, bootsChart(s.bootsPerHour));
      fill(transfers, 
        s.transfers
          ? h('ul', { class: 'stats small' }, card('TFTP', s.transfers.tftp ?? 0), card('HTTP', s.transfers.http ?? 0))
          : h('p', { class: 'muted' }, 'Transfer counts are not reported by this server yet.'),
      );
    } catch (e) {
      fill(counts, loadError(e));
    }
    try {
      const r = await get('/dhcp/rivals');
      clear(rivals);
      if (r.items.length) {
        rivals.append(
          h('div', { class: 'notice error', role: 'alert' },
            h('strong', {}, `Another DHCP server answers on this network (${r.items.length}). `),
            'Nodes may get a foreign address or boot file:',
            h('ul', {}, r.items.map((x) => h('li', {}, h('span', { class: 'mono' }, x.server ?? x.from ?? '?'), x.from && x.from !== x.server ? ` (from ${x.from})` : '', x.interface ? ` on ${x.interface}` : '', x.proxy ? ', proxyDHCP' : '', x.offered ? `, offered ${x.offered}` : '', x.bootFile ? `, boot file ${x.bootFile}` : ''))),
          ),
        );
      }
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) fill(rivals, loadError(e));
      else clear(rivals);
    }
    try {
      const hl = await get('/health');
      fill(health, 
        h('p', {}, h('span', { class: `badge ${hl.status === 'ok' ? 'st-booted' : 'st-stuck'}` }, hl.status), ` netroot ${hl.version}, `, h('span', { class: 'uptime' }, `up ${Math.floor(hl.uptimeSec / 3600)} h ${Math.floor((hl.uptimeSec % 3600) / 60)} min`)),
        h('table', { class: 'data compact' },
          h('caption', { class: 'sr-only' }, 'Subsystems'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Subsystem'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Detail'))),
          h('tbody', {}, Object.entries(hl.subsystems || {}).map(([name, v]) => h('tr', {}, h('td', {}, name), h('td', {}, h('span', { class: `badge ${HEALTH[v.status] ?? 'st-stuck'}` }, v.status)), h('td', { class: 'small' }, Object.entries(v).filter(([k, x]) => k !== 'status' && x !== null && x !== undefined).map(([k, x]) => `${k}: ${typeof x === 'object' ? JSON.stringify(x) : x}`).join(', '))))),
        ),
      );
    } catch (e) {
      fill(health, loadError(e));
    }
  }

  load();
  const t = setInterval(load, 5000);
  return () => clearInterval(t);
}
