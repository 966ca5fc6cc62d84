/**
 * Preload for a service subprocess with a fixed clock (see clock.ts):
 *   node --import 'file:///…/fixed-clock.js?at=2026-11-26T09:00:00.000Z' bin/netroot.js serve …
 * The start time rides in the module URL, so nothing reaches netroot's environment or config.
 * With an IPC channel (spawn stdio 'ipc'), the test moves the clock by sending
 * `{ fixedClock: <ISO time> }` and waits for the same message back: once it is back, the service
 * reads the new time (messages are handled in order on its event loop).
 */
import { installFixedClock } from './clock.js';

const at = new URL(import.meta.url).searchParams.get('at');
if (!at) throw new Error(`fixed-clock preload: no ?at=<ISO time> in ${import.meta.url}`);
const clock = installFixedClock(at);

if (process.send) {
  process.on('message', (m: unknown) => {
    const to = (m as { fixedClock?: unknown } | null)?.fixedClock;
    if (typeof to !== 'string') return;
    clock.set(to);
    process.send?.({ fixedClock: new Date(clock.now()).toISOString() });
  });
  // The channel must not keep the service alive: it exits by itself after SIGTERM.
  process.channel?.unref();
}
