// Sign-in with an API token. The token is checked against the API before it is kept.
import { ApiError, signIn } from '../api.js';
import { banner, h } from '../dom.js';

export function renderSignIn(main, { onSignedIn }) {
  const err = h('p', { id: 'token-err', class: 'field-error', hidden: true });
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', placeholder: 'nrt_…', 'aria-describedby': 'token-help token-err' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to netroot'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { id: 'token-help', class: 'help' }, 'Kept for this browser tab only. Create one with ', h('code', {}, 'netroot token create'), '.'),
    err,
    button,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    input.removeAttribute('aria-invalid');
    button.disabled = true;
    try {
      await signIn(input.value.trim());
      banner(null);
      onSignedIn();
    } catch (e) {
      err.textContent = e instanceof ApiError && e.status === 401 ? 'This token is not valid (unknown or revoked).' : `Sign-in failed: ${e.message}`;
      err.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  main.append(form);
  input.focus();
}
