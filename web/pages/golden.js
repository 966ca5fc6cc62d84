// Golden hosts: the machines images are pulled from. Register one (netroot fetches its SSH host
// key and shows the fingerprint), pin the key once the fingerprint is checked out of band, run the
// preflight check. netroot's own public key is shown for the host's authorized_keys.
import { ApiError, api, enc, get, session } from '../api.js';
import { banner, bytes, clear, fill, h, loadError } from '../dom.js';
import { confirmDialog, modal } from '../components/dialog.js';

export function renderGolden(main) {
  const keyBox = h('div', { id: 'ssh-key' });
  const tbody = h('tbody');
  const report = h('div', { id: 'check-report', 'aria-live': 'polite' });
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Golden hosts'), session.canWrite ? h('button', { type: 'button', id: 'add-golden', class: 'primary', onclick: addHost }, 'Add golden host') : null),
    h('p', { class: 'help' }, 'Images are pulled from these hosts over SSH (rsync as root). Pulls need the host key pinned.'),
    keyBox,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'data', id: 'golden-hosts' },
        h('caption', { class: 'sr-only' }, 'Golden hosts'),
        h('thead', {}, h('tr', {}, ['Name', 'Address', 'User', 'Source', 'Host key fingerprint', 'Key'].map((c) => h('th', { scope: 'col' }, c)), session.canWrite ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')) : null)),
        tbody,
      ),
    ),
    report,
  );

  get('/ssh/key')
    .then((k) => fill(keyBox, h('details', { class: 'card' }, h('summary', {}, "netroot's SSH public key (add it to root's authorized_keys on the golden host)"), h('pre', { class: 'code', id: 'ssh-public-key' }, k.publicKey), h('p', { class: 'small muted' }, 'Fingerprint ', h('span', { class: 'mono fp' }, k.fingerprint)))))
    .catch((e) => fill(keyBox, loadError(e)));

  function addHost() {
    const field = (id, label, attrs, help) => {
      const input = h('input', { id, type: 'text', autocomplete: 'off', 'aria-describedby': `${id}-err${help ? ` ${id}-help` : ''}`, ...attrs });
      return { input, err: h('p', { id: `${id}-err`, class: 'field-error', hidden: true }), el: null, label, help };
    };
    const f = {
      name: field('gh-name', 'Name', {}),
      address: field('gh-address', 'Address', { placeholder: 'host name or IP' }),
      port: field('gh-port', 'SSH port', { value: '22', inputmode: 'numeric' }),
      user: field('gh-user', 'User', { value: 'root' }),
      sourcePath: field('gh-source', 'Source path', { value: '/' }, 'The root to copy: / for the host itself, or a directory holding a root tree.'),
    };
    const formErr = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const save = h('button', { type: 'submit', class: 'primary' }, 'Add');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h(
      'form',
      { novalidate: true },
      Object.values(f).map((x) => h('div', { class: 'field' }, h('label', { for: x.input.id }, x.label), x.input, x.help ? h('p', { id: `${x.input.id}-help`, class: 'help' }, x.help) : null, x.err)),
      formErr,
      h('div', { class: 'actions' }, cancel, save),
    );
    const { close } = modal('Add golden host', form, { id: 'golden-form' });
    cancel.addEventListener('click', close);
    f.name.input.focus();
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      formErr.hidden = true;
      for (const x of Object.values(f)) ((x.err.hidden = true), x.input.removeAttribute('aria-invalid'));
      const port = Number(f.port.input.value.trim());
      save.disabled = true;
      try {
        // The server connects to fetch the host key: this can take a few seconds.
        const g = await api('POST', '/golden-hosts', { name: f.name.input.value.trim(), address: f.address.input.value.trim(), port: Number.isInteger(port) ? port : f.port.input.value, user: f.user.input.value.trim(), sourcePath: f.sourcePath.input.value.trim() });
        close();
        banner(`Added ${g.name}: check its fingerprint, then pin the key.`, 'ok');
        load();
      } catch (e) {
        const x = e instanceof ApiError && e.field ? f[e.field] : null;
        if (x) {
          x.err.textContent = e.fieldMessage;
          x.err.hidden = false;
          x.input.setAttribute('aria-invalid', 'true');
          x.input.focus();
        } else {
          formErr.textContent = e.message;
          formErr.hidden = false;
        }
      } finally {
        save.disabled = false;
      }
    });
  }

  function pin(g) {
    return confirmDialog({
      title: `Pin the host key of ${g.name}?`,
      message: h('div', {}, h('p', {}, 'Compare with ', h('code', {}, 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub'), ' on the host itself:'), h('p', { class: 'mono fp' }, g.fingerprint)),
      confirmLabel: 'Pin key',
      action: () => api('POST', `/golden-hosts/${enc(g.name)}/pin`, { fingerprint: g.fingerprint }),
    }).then((ok) => ok && (banner(`Pinned the host key of ${g.name}.`, 'ok'), load()));
  }

  async function check(g, btn) {
    btn.disabled = true;
    fill(report, h('p', { class: 'muted' }, `Checking ${g.name} over SSH…`));
    try {
      const { report: r } = await api('POST', `/golden-hosts/${enc(g.name)}/check`);
      fill(report, checkReport(r));
    } catch (e) {
      fill(report, h('p', { class: 'notice error', role: 'alert' }, `Check of ${g.name} failed: ${e.message}`));
    } finally {
      btn.disabled = false;
    }
  }

  function row(g) {
    const checkBtn = h('button', { type: 'button', class: 'small', onclick: () => check(g, checkBtn) }, 'Check');
    return h(
      'tr',
      { 'data-host': g.name },
      h('td', {}, g.name),
      h('td', { class: 'mono' }, h('span', { class: 'addr' }, `${g.address}:${g.port}`)),
      h('td', {}, g.user),
      h('td', { class: 'mono' }, h('span', { class: 'src' }, g.sourcePath)),
      h('td', { class: 'mono small' }, g.fingerprint ? h('span', { class: 'fp' }, g.fingerprint) : '—'),
      h('td', {}, h('span', { class: `badge ${g.pinned ? 'st-booted' : 'st-stuck'}` }, g.pinned ? 'pinned' : 'not pinned')),
      session.canWrite
        ? h('td', { class: 'row-actions' }, h('span', { class: 'btns' }, !g.pinned && g.fingerprint ? h('button', { type: 'button', class: 'small', onclick: () => pin(g) }, 'Pin key…') : null, g.pinned ? checkBtn : null))
        : null,
    );
  }

  async function load() {
    try {
      const r = await get('/golden-hosts');
      clear(tbody);
      for (const g of r.items) tbody.append(row(g));
      if (r.items.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No golden hosts yet.')));
    } catch (e) {
      fill(tbody, h('tr', {}, h('td', { colspan: 7 }, loadError(e))));
    }
  }

  load();
}

/** The preflight report: problems first, then what was found. */
function checkReport(r) {
  const item = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'check-title' },
    h('h2', { id: 'check-title' }, `Preflight of ${r.host}`),
    r.problems.length
      ? h('div', { class: 'notice error' }, h('strong', {}, `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:`), h('ul', {}, r.problems.map((p) => h('li', {}, p))))
      : h('p', { class: 'notice' }, 'No problems found.'),
    (r.warnings ?? []).length
      ? h('div', { class: 'notice' }, h('strong', {}, `${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}:`), h('ul', {}, r.warnings.map((w) => h('li', {}, w))))
      : null,
    h(
      'dl',
      { class: 'facts' },
      ...item('Running kernel', h('span', { class: 'mono' }, r.runningKernel || '—')),
      ...item('Bootable kernels', h('span', { class: 'mono' }, r.kernels.bootable.join(', ') || 'none')),
      ...item('Packages', r.packages.length ? r.packages.map((p, i) => [i ? ', ' : '', h('span', { class: p.present ? null : 'ver-error' }, `${p.checked}${p.present ? (p.version ? ` ${p.version}` : '') : ' (missing)'}`)]) : '—'),
      ...item('Network drivers', r.networkDrivers.length ? r.networkDrivers.map((d) => `${d.iface}: ${d.driver}`).join(', ') : '—'),
      ...item('dracut', r.dracutVersion === null ? 'not found' : `${r.dracutVersion}${r.initramfsNetwork ? ` (initramfs network: ${r.initramfsNetwork})` : ''}`),
      ...item('SELinux', r.selinux?.config ?? '—'),
      ...item('Free space', h('span', { class: 'free' }, bytes(r.freeBytes))),
    ),
  );
}
