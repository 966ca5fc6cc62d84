// The app shell: sign-in gate, hash router (#/, #/nodes, #/nodes/<mac>, #/discovered, #/golden, #/images,
// #/exports), navigation state. Each page is render(main, route) -> optional cleanup function.

import { onUnauthorized, session, signIn } from './api.js';
import { banner, clear, connBanner } from './dom.js';
import { renderSignIn } from './pages/signin.js';
import { renderDashboard } from './pages/dashboard.js';
import { renderNodes } from './pages/nodes.js';
import { renderNodeDetail } from './pages/node-detail.js';
import { renderDiscovered } from './pages/discovered.js';
import { renderImages } from './pages/images.js';
import { renderGolden } from './pages/golden.js';
import { renderExports } from './pages/exports.js';

const main = document.getElementById('main');
let cleanup = null;

/** '#/nodes/aa:bb?search=x' -> {parts: ['nodes', 'aa:bb'], query: URLSearchParams} */
export function parseHash(hash) {
  const raw = hash.replace(/^#\/?/, '');
  const [path, q = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

function pageFor(parts) {
  const [first, second] = parts;
  if (!first) return { title: 'Dashboard', nav: '#/', render: renderDashboard };
  if (first === 'nodes' && second) return { title: `Node ${second}`, nav: '#/nodes', render: renderNodeDetail };
  if (first === 'nodes') return { title: 'Nodes', nav: '#/nodes', render: renderNodes };
  if (first === 'discovered') return { title: 'Discovered', nav: '#/discovered', render: renderDiscovered };
  if (first === 'golden') return { title: 'Golden hosts', nav: '#/golden', render: renderGolden };
  if (first === 'images') return { title: 'Images', nav: '#/images', render: renderImages };
  if (first === 'exports') return { title: 'Exports', nav: '#/exports', render: renderExports };
  return null;
}

function showChrome(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('who').hidden = !signedIn;
  document.body.dataset.role = session.who?.role ?? 'unknown';
  const who = session.who;
  document.getElementById('who-name').textContent = who ? `${who.name || 'token'}${who.role === 'readonly' ? ' (read-only)' : who.role === 'admin' ? ' (admin)' : ''}` : '';
}

async function route() {
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a page's cleanup must not stop navigation */
    }
    cleanup = null;
  }
  const { parts, query } = parseHash(location.hash);
  if (!session.token) {
    showChrome(false);
    document.title = 'Sign in · netroot';
    clear(main);
    renderSignIn(main, { onSignedIn: () => route() });
    return;
  }
  if (!session.who) {
    try {
      await signIn(session.token);
    } catch {
      session.token = null;
      return route();
    }
  }
  showChrome(true);
  const page = pageFor(parts);
  for (const a of document.querySelectorAll('#nav a')) {
    if (page && a.getAttribute('href') === page.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  clear(main);
  if (!page) {
    document.title = 'Not found · netroot';
    main.append(Object.assign(document.createElement('h1'), { textContent: 'No such page' }));
    return;
  }
  document.title = `${page.title} · netroot`;
  cleanup = page.render(main, { parts, query }) || null;
  main.focus({ preventScroll: true });
}

function signOut(message) {
  session.token = null;
  session.who = null;
  connBanner(null);
  if (message) banner(message, 'error');
  route();
}

onUnauthorized(() => signOut('Your token was refused (revoked or wrong): sign in again.'));
document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => route());
route();
