// Change actions on one node, shared by the nodes table and the node detail page.
import { api, enc, session } from '../api.js';
import { banner, h } from '../dom.js';
import { confirmDialog } from './dialog.js';
import { openNodeForm } from './node-form.js';

export function deleteNode(node, onDone) {
  return confirmDialog({
    title: `Delete ${node.fqdn}?`,
    message: h(
      'div',
      {},
      h('p', {}, `The node ${node.fqdn} (${node.mac}, ${node.ipv4}) will be removed and no longer answered at boot.`),
      h('p', {}, 'Its state directory ', h('code', {}, `state/${node.fqdn}/`), ' will be archived, not deleted: it can be restored later.'),
    ),
    confirmLabel: 'Delete node',
    danger: true,
    action: () => api('DELETE', `/nodes/${enc(node.mac)}`),
  }).then((ok) => {
    if (ok) {
      banner(`Deleted ${node.fqdn}; its state directory was archived.`, 'ok');
      onDone?.();
    }
  });
}

export async function toggleEnabled(node, onDone) {
  try {
    const n = await api('PATCH', `/nodes/${enc(node.mac)}`, { enabled: !node.enabled });
    banner(`${n.fqdn} ${n.enabled ? 'enabled' : 'disabled'}.`, 'ok');
    onDone?.(n);
  } catch (e) {
    banner(`Could not change ${node.fqdn}: ${e.message}`, 'error');
  }
}

/** Edit / Disable / Delete buttons; nothing for read-only tokens. */
export function nodeButtons(node, { onChanged, onDeleted, compact } = {}) {
  if (!session.canWrite) return null;
  const label = (verb) => (compact ? { 'aria-label': `${verb} ${node.fqdn}` } : {});
  return h(
    'span',
    { class: 'btns' },
    h('button', { type: 'button', class: 'small', ...label('Edit'), onclick: () => openNodeForm({ mode: 'edit', node, onSaved: (n) => (banner(`Saved ${n.fqdn}.`, 'ok'), onChanged?.(n)) }) }, 'Edit'),
    h('button', { type: 'button', class: 'small', ...label(node.enabled ? 'Disable' : 'Enable'), onclick: () => toggleEnabled(node, onChanged) }, node.enabled ? 'Disable' : 'Enable'),
    h('button', { type: 'button', class: 'small danger', ...label('Delete'), onclick: () => deleteNode(node, onDeleted) }, 'Delete'),
  );
}
