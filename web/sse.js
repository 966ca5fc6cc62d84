// Server-sent events over fetch(): EventSource cannot send the bearer header, so the stream is
// read with a ReadableStream and parsed here (WHATWG HTML "Interpreting an event stream").
// On loss the stream reconnects with backoff and a banner says so; callers refetch what they
// may have missed in onOpen (the server keeps no replay buffer).

import { authHeaders, session } from './api.js';
import { connBanner } from './dom.js';

/** Parses SSE text incrementally; calls onEvent({event, data, id}) per dispatched event. */
export function sseParser(onEvent) {
  let buf = '';
  let event = '';
  let data = [];
  let id = '';
  const line = (l) => {
    if (l === '') {
      if (data.length) onEvent({ event: event || 'message', data: data.join('\n'), id });
      event = '';
      data = [];
      return;
    }
    if (l.startsWith(':')) return; // comment (keep-alive)
    const i = l.indexOf(':');
    const field = i < 0 ? l : l.slice(0, i);
    let value = i < 0 ? '' : l.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  };
  return (chunk) => {
    buf += chunk;
    let m;
    while ((m = /\r\n|\r|\n/.exec(buf))) {
      // A lone \r at the end may be half of \r\n: wait for more.
      if (m[0] === '\r' && m.index === buf.length - 1) break;
      line(buf.slice(0, m.index));
      buf = buf.slice(m.index + m[0].length);
    }
  };
}

const live = new Set();

function updateBanner() {
  const lost = [...live].some((s) => s.lost);
  connBanner(lost ? 'Live updates: connection to the server lost, reconnecting…' : null);
}

/**
 * Opens /api/v1/events/stream (optionally ?mac=) and keeps it open until close().
 * handlers: {boot(event), discovered(d), open()} - open runs on every (re)connect.
 */
export function liveStream(path, handlers) {
  const self = { lost: false, closed: false, ctrl: null, close };
  live.add(self);
  let delay = 1000;

  async function run() {
    while (!self.closed) {
      self.ctrl = new AbortController();
      try {
        const res = await fetch(`/api/v1${path}`, { headers: { ...authHeaders(), accept: 'text/event-stream' }, signal: self.ctrl.signal, cache: 'no-store' });
        if (res.status === 401 || res.status === 403 || !session.token) return;
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        self.lost = false;
        delay = 1000;
        updateBanner();
        handlers.open?.();
        const parse = sseParser((ev) => {
          let obj;
          try {
            obj = JSON.parse(ev.data);
          } catch {
            return;
          }
          handlers[ev.event]?.(obj);
        });
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parse(value);
        }
        throw new Error('stream ended');
      } catch {
        if (self.closed) return;
        self.lost = true;
        updateBanner();
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 15000);
      }
    }
  }

  function close() {
    self.closed = true;
    live.delete(self);
    self.ctrl?.abort();
    updateBanner();
  }

  void run();
  return self;
}
