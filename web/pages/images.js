// Images: versions (state, size, kernel, created, nodes running/pinning), pull now with live
// progress, publish, rollback, pin; failed pulls show their job log.
import { ApiError, api, enc, get, qs, session } from '../api.js';
import { banner, bytes, clear, h, loadError, notConfigured, when, fill } from '../dom.js';
import { confirmDialog, modal } from '../components/dialog.js';
import { jobView } from '../components/job.js';

export function renderImages(main) {
  const list = h('div');
  const jobs = new Set();
  main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Images'), session.canWrite ? h('button', { type: 'button', id: 'add-image', class: 'primary', onclick: createImage }, 'New image') : null), list);

  function createImage() {
    const input = h('input', { id: 'img-name', name: 'name', type: 'text', autocomplete: 'off', 'aria-describedby': 'img-name-help img-name-err' });
    const err = h('p', { id: 'img-name-err', class: 'field-error', hidden: true });
    // Disabled until the hosts are listed: a quick Create must not make an image without its host.
    const none = h('option', { value: '' }, 'Loading golden hosts…');
    const hostSel = h('select', { id: 'img-host', name: 'host', 'aria-describedby': 'img-host-help', disabled: true }, none);
    const save = h('button', { type: 'submit', class: 'primary', disabled: true }, 'Create');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h(
      'form',
      { novalidate: true },
      h('div', { class: 'field' }, h('label', { for: 'img-name' }, 'Name'), input, h('p', { id: 'img-name-help', class: 'help' }, 'a-z, 0-9, ".", "_", "-"; versions come from golden-host pulls.'), err),
      h('div', { class: 'field' }, h('label', { for: 'img-host' }, 'Golden host'), hostSel, h('p', { id: 'img-host-help', class: 'help' }, 'Pulls copy its root. Register hosts on the Golden hosts page.')),
      h('div', { class: 'actions' }, cancel, save),
    );
    const { close } = modal('New image', form, { id: 'image-form' });
    cancel.addEventListener('click', close);
    input.focus();
    get('/golden-hosts')
      .then((r) => {
        for (const g of r.items) hostSel.append(h('option', { value: g.name }, `${g.name} (${g.address}${g.pinned ? '' : ', key not pinned'})`));
        if (r.items.length === 1) hostSel.value = r.items[0].name;
      })
      .catch(() => {})
      .finally(() => {
        none.textContent = 'None yet';
        hostSel.disabled = false;
        save.disabled = false;
      });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      input.removeAttribute('aria-invalid');
      try {
        const i = await api('POST', '/images', { name: input.value.trim(), host: hostSel.value || null });
        close();
        banner(`Created image ${i.name}.`, 'ok');
        load();
      } catch (e) {
        err.textContent = e instanceof ApiError ? (e.field === 'host' ? `Golden host: ${e.fieldMessage}` : e.fieldMessage) : String(e);
        err.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
    });
  }

  function pinDialog(image, version) {
    const input = h('input', { id: 'pin-nodes', type: 'text', autocomplete: 'off', 'aria-describedby': 'pin-help pin-err' });
    const err = h('p', { id: 'pin-err', class: 'field-error', hidden: true });
    const save = h('button', { type: 'submit', class: 'primary' }, 'Pin');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h('form', { novalidate: true }, h('div', { class: 'field' }, h('label', { for: 'pin-nodes' }, 'Nodes (FQDNs or MACs, separated by spaces or commas)'), input, h('p', { id: 'pin-help', class: 'help' }, `Pinned nodes boot ${image} ${version} whatever version is active (a canary).`), err), h('div', { class: 'actions' }, cancel, save));
    const { close } = modal(`Pin nodes to ${image} ${version}`, form, { id: 'pin-form' });
    cancel.addEventListener('click', close);
    input.focus();
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      const keys = input.value.split(/[\s,]+/).filter(Boolean);
      const done = [];
      for (const k of keys) {
        try {
          await api('PATCH', `/nodes/${enc(k)}`, { image, pinnedVersion: version });
          done.push(k);
        } catch (e) {
          // Keep the ones not yet pinned in the field so nothing typed is lost.
          input.value = keys.filter((x) => !done.includes(x)).join(' ');
          err.textContent = `${k}: ${e.message}${done.length ? ` (pinned already: ${done.join(', ')})` : ''}`;
          err.hidden = false;
          return;
        }
      }
      close();
      banner(`Pinned ${done.length} node${done.length === 1 ? '' : 's'} to ${image} ${version}.`, 'ok');
      load();
    });
  }

  function versionsTable(image, items, reload) {
    const active = items.find((v) => v.active);
    const actions = (v) => {
      if (!session.canWrite || v.state !== 'ready') return null;
      const b = [];
      if (!v.active) {
        const newer = !active || v.createdAt > active.createdAt;
        const verb = newer ? 'publish' : 'rollback';
        b.push(h('button', { type: 'button', class: 'small', onclick: () => confirmDialog({ title: `${newer ? 'Publish' : 'Roll back to'} ${image} ${v.version}?`, message: h('p', {}, `Nodes of ${image} that are not pinned boot ${v.version} from their next boot.`), confirmLabel: newer ? 'Publish' : 'Roll back', action: () => api('POST', `/images/${enc(image)}/${verb}`, { version: v.version }) }).then((ok) => ok && reload()) }, newer ? 'Publish' : 'Roll back'));
      }
      b.push(h('button', { type: 'button', class: 'small', onclick: () => pinDialog(image, v.version) }, 'Pin…'));
      return h('span', { class: 'btns' }, b);
    };
    return h(
      'table',
      { class: 'data' },
      h('caption', { class: 'sr-only' }, `Versions of ${image}`),
      h('thead', {}, h('tr', {}, ['Version', 'State', 'Size', 'Kernel', 'Created', 'Running', 'Boots next', 'Pinned'].map((c) => h('th', { scope: 'col' }, c)), session.canWrite ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')) : null)),
      h(
        'tbody',
        {},
        items.length === 0 ? h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'No versions yet: pull one from the golden host.')) : null,
        items.map((v) =>
          h('tr', { class: v.active ? 'active' : null },
            h('td', { class: 'mono' }, h('span', { class: 'ver' }, v.version), v.active ? h('span', { class: 'badge st-booted' }, 'active') : null),
            h('td', { class: v.error ? 'note' : null }, h('span', { class: `badge ver-${v.state}` }, v.state), v.error ? h('span', { class: 'small ver-error' }, ' ', v.error) : null),
            h('td', { class: 'num' }, h('span', { class: 'size' }, bytes(v.sizeBytes))),
            h('td', { class: 'mono small' }, v.kernel ?? '—'),
            h('td', {}, when(v.createdAt)),
            // Running: what nodes reported booting; boots next: nodes that get it at their next boot.
            h('td', { class: 'num', title: 'nodes that reported running this version' }, String(v.runningNodes ?? 0)),
            h('td', { class: 'num', title: 'nodes that boot this version next (pinned, or the active version)' }, String(v.bootsNext ?? 0)),
            h('td', { class: 'num' }, v.pinnedNodes ? h('a', { href: `#/nodes${qs({ image, search: v.pinnedBy?.length === 1 ? v.pinnedBy[0] : '' })}`, title: (v.pinnedBy ?? []).join(', ') }, String(v.pinnedNodes)) : '0'),
            session.canWrite ? h('td', { class: 'row-actions' }, actions(v)) : null,
          ),
        ),
      ),
    );
  }

  function imageSection(img) {
    const body = h('div', {}, h('p', { class: 'muted' }, 'Loading versions…'));
    const jobBox = h('div', { class: 'jobs', 'aria-live': 'polite' });
    // A pull of an unchanged golden host builds nothing unless forced (a rebuild, e.g. a new dracut).
    const force = session.canWrite ? h('input', { type: 'checkbox', id: `force-${img.name}` }) : null;
    const pull = session.canWrite ? h('button', { type: 'button', class: 'small', onclick: doPull }, 'Pull now') : null;
    const pullBox = pull
      ? h('span', { class: 'pull' },
          h('label', { class: 'small muted', for: `force-${img.name}`, title: 'Build a new version even if nothing changed on the golden host' }, force, ' rebuild if unchanged '),
          pull)
      : null;
    const summary = h('p', { class: 'muted small image-summary' });
    const drawSummary = (i) =>
      fill(summary,
        i.activeVersion ? ['active ', h('span', { class: 'mono ver' }, i.activeVersion)] : 'no active version',
        ` · ${i.versions} version${i.versions === 1 ? '' : 's'}, ${i.readyVersions} ready · `,
        i.host ? ['golden host ', h('a', { href: '#/golden' }, i.host)] : 'no golden host',
      );
    drawSummary(img);
    const sec = h('section', { class: 'card image', 'aria-labelledby': `img-${img.name}` }, h('div', { class: 'page-head' }, h('h2', { id: `img-${img.name}` }, img.name), pullBox), summary, jobBox, body);

    // One pull at a time per image: the button waits while one runs.
    let running = 0;
    const setRunning = (d) => {
      running += d;
      if (pull) pull.disabled = running > 0;
    };
    function showJob(j) {
      const live = j.state === 'running' || j.state === 'queued';
      if (live) setRunning(1);
      const v = jobView(j, {
        onFinished: (done) => {
          if (live) setRunning(-1);
          banner(`Pull of ${img.name}: ${done.state}.`, done.state === 'succeeded' ? 'ok' : 'error');
          reload();
        },
      });
      jobs.add(v);
      jobBox.prepend(v.el);
    }

    async function doPull() {
      setRunning(1);
      try {
        // 202 {job}: the job as queued; jobView polls it from there.
        const r = await api('POST', `/images/${enc(img.name)}/pull`, force?.checked ? { force: true } : undefined);
        showJob(r.job);
      } catch (e) {
        banner(e instanceof ApiError && e.missingRoute ? 'Pulling images is not configured yet on this server.' : `Pull failed to start: ${e.message}`, 'error');
      } finally {
        setRunning(-1);
      }
    }

    async function reload() {
      try {
        const r = await get(`/images/${enc(img.name)}/versions`);
        fill(body, h('div', { class: 'table-wrap' }, versionsTable(img.name, r.items, reload)));
        const i = (await get('/images')).items.find((x) => x.name === img.name);
        if (i) drawSummary(i);
      } catch (e) {
        fill(body, e instanceof ApiError && e.status === 404 ? notConfigured('Image versions') : loadError(e));
      }
    }

    async function loadJobs() {
      try {
        const r = await get(`/jobs${qs({ target: `image:${img.name}` })}`);
        // Running pulls (live) and the latest failed one (its log) are what an admin needs here.
        const items = r.items || [];
        for (const j of items.filter((x) => x.state === 'running' || x.state === 'queued')) showJob(j);
        // Newest first: the last finished pull's log matters only when it failed.
        const last = items.find((x) => x.state !== 'running' && x.state !== 'queued');
        if (last?.state === 'failed') showJob(last);
      } catch {
        /* jobs not available yet: nothing to show */
      }
    }

    reload();
    loadJobs();
    return sec;
  }

  async function load() {
    try {
      const r = await get('/images');
      clear(list);
      if (r.items.length === 0) list.append(h('p', { class: 'notice' }, 'No images yet.', session.canWrite ? [' Register a ', h('a', { href: '#/golden' }, 'golden host'), ', create an image, then pull its first version.'] : ''));
      for (const img of r.items) list.append(imageSection(img));
    } catch (e) {
      fill(list, loadError(e));
    }
  }

  load();
  return () => {
    for (const j of jobs) j.stop();
  };
}
