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
    const save = h('button', { type: 'submit', class: 'primary' }, 'Create');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h('form', { novalidate: true }, h('div', { class: 'field' }, h('label', { for: 'img-name' }, 'Name'), input, h('p', { id: 'img-name-help', class: 'help' }, 'a-z, 0-9, ".", "_", "-"; versions come from golden-host pulls.'), err), h('div', { class: 'actions' }, cancel, save));
    const { close } = modal('New image', form, { id: 'image-form' });
    cancel.addEventListener('click', close);
    input.focus();
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      input.removeAttribute('aria-invalid');
      try {
        const i = await api('POST', '/images', { name: input.value.trim() });
        close();
        banner(`Created image ${i.name}.`, 'ok');
        load();
      } catch (e) {
        err.textContent = e instanceof ApiError ? e.fieldMessage : String(e);
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
      h('thead', {}, h('tr', {}, ['Version', 'State', 'Size', 'Kernel', 'Created', 'Running', 'Pinned'].map((c) => h('th', { scope: 'col' }, c)), session.canWrite ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')) : null)),
      h(
        'tbody',
        {},
        items.length === 0 ? h('tr', {}, h('td', { colspan: 8, class: 'empty' }, 'No versions yet: pull one from the golden host.')) : null,
        items.map((v) =>
          h('tr', { class: v.active ? 'active' : null },
            h('td', { class: 'mono' }, v.version, v.active ? h('span', { class: 'badge st-booted' }, 'active') : null),
            h('td', {}, h('span', { class: `badge ver-${v.state}` }, v.state)),
            h('td', { class: 'num' }, bytes(v.sizeBytes)),
            h('td', { class: 'mono small' }, v.kernel ?? '—'),
            h('td', {}, when(v.createdAt)),
            h('td', { class: 'num' }, String(v.runningNodes ?? 0)),
            h('td', { class: 'num' }, v.pinnedNodes ? h('a', { href: `#/nodes${qs({ image, search: '' })}` }, String(v.pinnedNodes)) : '0'),
            session.canWrite ? h('td', { class: 'row-actions' }, actions(v)) : null,
          ),
        ),
      ),
    );
  }

  function imageSection(img) {
    const body = h('div', {}, h('p', { class: 'muted' }, 'Loading versions…'));
    const jobBox = h('div', { class: 'jobs', 'aria-live': 'polite' });
    const pull = session.canWrite ? h('button', { type: 'button', class: 'small', onclick: doPull }, 'Pull now') : null;
    const sec = h('section', { class: 'card image', 'aria-labelledby': `img-${img.name}` }, h('div', { class: 'page-head' }, h('h2', { id: `img-${img.name}` }, img.name), pull), jobBox, body);

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
        const r = await api('POST', `/images/${enc(img.name)}/pull`);
        const j = await get(`/jobs/${enc(r.job.id)}`).catch(() => ({ id: r.job.id, kind: 'pull', target: `image:${img.name}`, state: 'queued' }));
        showJob(j);
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
        const failed = items.filter((x) => x.state === 'failed').sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)))[0];
        if (failed) showJob(failed);
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
      if (r.items.length === 0) list.append(h('p', { class: 'notice' }, 'No images yet.', session.canWrite ? ' Create one, then pull its first version from the golden host.' : ''));
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
