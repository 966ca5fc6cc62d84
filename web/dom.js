// Small DOM helpers: element builder, formatting, banners.

/**
 * h('button', {type: 'button', onclick: fn, class: 'x'}, 'text', child, [more])
 * Attributes: on* become listeners, `class`, `for`, aria-* and data-* are set as attributes,
 * booleans toggle attributes, null/undefined/false skip. Children: strings, nodes, arrays, null.
 * No `style` attribute (the CSP refuses inline style): a class, or el.style.x = ... after.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'style') throw new Error('h(): no style attribute (the CSP refuses inline style); use a class or el.style');
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** Replaces el's children (null/false children are skipped, unlike Element.append). */
export function fill(el, ...children) {
  append(clear(el), children);
  return el;
}

/** Adds children (null/false skipped). */
export function add(el, ...children) {
  append(el, children);
  return el;
}

/** "3 min ago" style, with the exact time in the title of a <time>. */
export function ago(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const t = new Date(iso);
  const s = Math.round((Date.now() - t.getTime()) / 1000);
  let text;
  if (s < 5) text = 'just now';
  else if (s < 60) text = `${s} s ago`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min ago`;
  else if (s < 86400) text = `${Math.floor(s / 3600)} h ago`;
  else text = t.toLocaleDateString();
  return h('time', { datetime: iso, title: t.toLocaleString() }, text);
}

export function when(iso) {
  return iso ? h('time', { datetime: iso }, new Date(iso).toLocaleString()) : h('span', { class: 'muted' }, '—');
}

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${u[i]}`;
}

const STATE_LABEL = { booted: 'booted', booting: 'booting', stuck: 'stuck', never: 'never booted' };
export function stateBadge(state) {
  return h('span', { class: `badge st-${state}` }, STATE_LABEL[state] || state);
}

/** Status banner (aria-live polite). kind: 'ok' | 'error' | 'info'. Auto-hides ok/info. */
let bannerTimer;
export function banner(text, kind = 'info') {
  const el = document.getElementById('banner');
  if (!el) return;
  clearTimeout(bannerTimer);
  if (!text) {
    el.hidden = true;
    return;
  }
  el.className = `banner ${kind}`;
  el.textContent = text;
  el.hidden = false;
  if (kind !== 'error') bannerTimer = setTimeout(() => (el.hidden = true), 6000);
}

/** Connection banner (role=alert) for live views; text null hides it. */
export function connBanner(text) {
  const el = document.getElementById('conn');
  if (!el) return;
  if (text) {
    el.textContent = text;
    el.hidden = false;
  } else el.hidden = true;
}

/** A message box for a feature whose API is not there yet. */
export function notConfigured(what) {
  return h('p', { class: 'notice' }, `${what}: not configured yet on this server.`);
}

/** Error paragraph for a failed load. */
export function loadError(e) {
  return h('p', { class: 'notice error', role: 'alert' }, `Could not load: ${e.message}`);
}
