// The node form (register, edit, register a discovered MAC) in a dialog. The API's field errors
// are shown beside the field they name (aria-describedby + aria-invalid); the dialog stays open
// with everything typed when a save fails.
import { ApiError, api, enc, get } from '../api.js';
import { h } from '../dom.js';
import { modal } from './dialog.js';

const FIELDS = [
  { name: 'mac', label: 'MAC address', placeholder: '52:54:00:12:34:56', help: 'Any notation; stored as lowercase with colons.' },
  { name: 'fqdn', label: 'FQDN', placeholder: 'node01.lab.example', help: 'Host and domain: DHCP gives both.' },
  { name: 'ipv4', label: 'IPv4 address', placeholder: '10.0.0.21' },
  { name: 'image', label: 'Image', list: 'image-names', help: 'Empty: no image (the node is not offered a boot).' },
  { name: 'pinnedVersion', label: 'Pinned version', help: 'Empty: the image’s active version.' },
  { name: 'kernelArgs', label: 'Extra kernel arguments', placeholder: 'console=ttyS0,115200' },
  { name: 'bootMode', label: 'Boot mode', options: [['ipxe', 'iPXE (HTTP)'], ['pxelinux', 'pxelinux (TFTP)']] },
  { name: 'stateMode', label: 'State', options: [['nfs', 'NFS state directory'], ['local', 'Local disk']] },
];

function fieldRow(f, value, locked) {
  const id = `nf-${f.name}`;
  const described = [f.help ? `${id}-help` : null, `${id}-err`].filter(Boolean).join(' ');
  const control = f.options
    ? h('select', { id, name: f.name, 'aria-describedby': described }, f.options.map(([v, l]) => h('option', { value: v, selected: v === value }, l)))
    : h('input', { id, name: f.name, type: 'text', value: value ?? '', placeholder: f.placeholder, list: f.list, readonly: locked, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': described });
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, f.label),
    control,
    f.help ? h('p', { id: `${id}-help`, class: 'help' }, f.help) : null,
    h('p', { id: `${id}-err`, class: 'field-error', hidden: true }),
  );
}

/**
 * mode: 'create' | 'edit' | 'discovered'. node: initial values (edit: the node; discovered: {mac}).
 * onSaved(node) runs after a successful save.
 */
export function openNodeForm({ mode, node = {}, onSaved }) {
  const title = mode === 'edit' ? `Edit ${node.fqdn}` : mode === 'discovered' ? `Register ${node.mac}` : 'Register a node';
  const values = { bootMode: 'ipxe', stateMode: 'nfs', enabled: true, ...node };
  const formErr = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const enabled = h('input', { id: 'nf-enabled', name: 'enabled', type: 'checkbox', checked: values.enabled !== false });
  const datalist = h('datalist', { id: 'image-names' });
  const save = h('button', { type: 'submit', class: 'primary' }, mode === 'edit' ? 'Save' : 'Register');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const form = h(
    'form',
    { class: 'node-form', novalidate: true },
    h('div', { class: 'grid2' }, FIELDS.map((f) => fieldRow(f, values[f.name], f.name === 'mac' && mode === 'discovered'))),
    h('div', { class: 'field check' }, enabled, h('label', { for: 'nf-enabled' }, 'Enabled (answer this node’s boot requests)')),
    datalist,
    formErr,
    h('div', { class: 'actions' }, cancel, save),
  );
  const { dialog, close } = modal(title, form, { id: 'node-form', wide: true });
  cancel.addEventListener('click', close);
  get('/images')
    .then((r) => datalist.append(...r.items.map((i) => h('option', { value: i.name }))))
    .catch(() => {});

  const clearErrors = () => {
    formErr.hidden = true;
    for (const p of form.querySelectorAll('.field-error')) p.hidden = true;
    for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  };
  const showError = (e) => {
    const control = e.field ? form.querySelector(`[name="${CSS.escape(e.field)}"]`) : null;
    if (control) {
      const p = dialog.querySelector(`#nf-${CSS.escape(e.field)}-err`);
      p.textContent = e.fieldMessage;
      p.hidden = false;
      control.setAttribute('aria-invalid', 'true');
      control.focus();
    } else {
      formErr.textContent = e.message;
      formErr.hidden = false;
    }
  };

  const body = () => {
    const fd = new FormData(form);
    const out = {};
    for (const f of FIELDS) {
      const v = String(fd.get(f.name) ?? '').trim();
      if (f.name === 'image' || f.name === 'pinnedVersion') out[f.name] = v === '' ? null : v;
      else out[f.name] = v;
    }
    out.enabled = enabled.checked;
    if (mode === 'discovered') delete out.mac;
    if (mode === 'edit') {
      // Only what changed: a PATCH of untouched fields could trip on values edited elsewhere.
      for (const k of Object.keys(out)) if (out[k] === (node[k] ?? (k === 'image' || k === 'pinnedVersion' ? null : ''))) delete out[k];
    }
    return out;
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    save.disabled = true;
    try {
      const b = body();
      const saved =
        mode === 'edit'
          ? await api('PATCH', `/nodes/${enc(node.mac)}`, b)
          : mode === 'discovered'
            ? await api('POST', `/discovered/${enc(node.mac)}/register`, b)
            : await api('POST', '/nodes', b);
      close();
      onSaved?.(saved);
    } catch (e) {
      if (e instanceof ApiError) showError(e);
      else showError({ message: String(e) });
    } finally {
      save.disabled = false;
    }
  });
  const first = form.querySelector(mode === 'discovered' ? '#nf-fqdn' : '#nf-mac');
  first?.focus();
  return { dialog, close };
}
