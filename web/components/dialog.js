// Modal dialogs on <dialog> (focus trap, Escape to close, focus returns to the opener).
import { h } from '../dom.js';

/** Opens a modal with the given content; returns {dialog, close}. */
export function modal(title, content, { id, wide } = {}) {
  const opener = document.activeElement;
  const titleId = `${id || 'dlg'}-title`;
  const dialog = h('dialog', { id, class: wide ? 'wide' : null, 'aria-labelledby': titleId }, h('h2', { id: titleId }, title), content);
  const close = () => {
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

/**
 * Asks a yes/no question. action(): Promise runs on confirm; its error is shown in the dialog
 * (which stays open). Resolves true when the action succeeded, false when cancelled.
 */
export function confirmDialog({ title, message, confirmLabel, danger, action }) {
  return new Promise((resolve) => {
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const yes = h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, confirmLabel);
    const no = h('button', { type: 'button' }, 'Cancel');
    const form = h('form', { method: 'dialog' }, message, err, h('div', { class: 'actions' }, no, yes));
    const { dialog, close } = modal(title, form, { id: 'confirm' });
    let done = false;
    no.addEventListener('click', close);
    dialog.addEventListener('close', () => resolve(done));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      yes.disabled = true;
      try {
        await action();
        done = true;
        close();
      } catch (e) {
        err.textContent = e.message;
        err.hidden = false;
      } finally {
        yes.disabled = false;
      }
    });
    no.focus();
  });
}
