/**
 * A fixed wall clock for tests whose output shows times (the web UI screenshots): `Date.now()`
 * and `new Date()` return a time the test chose, which stands still until the test moves it.
 *
 * Why standing still rather than starting at a fixed instant and running on with real time: the
 * UI prints times to the second (a boot timeline, "started 26/11/2026, 09:05:00"), so a clock
 * that runs on would print how fast this machine happened to be. Only Date is replaced: timers,
 * performance.now() and process.hrtime() keep real time, so timeouts, debounces and polling
 * still work. What it costs: durations measured with Date come out as 0, and a loop waiting for
 * a Date deadline would wait forever (netroot's only one, the wait for NFS-Ganesha's reload log
 * line, runs only with a live Ganesha, which the tests using this clock do not start).
 *
 * Used in-process (live.test.ts starts the service inside the test process) and, through
 * fixed-clock.ts, as a `node --import` preload in a service subprocess.
 */

export interface FixedClock {
  /** The fixed time in ms since the epoch. */
  now(): number;
  /** Moves the clock to a time (forward or back). */
  set(at: Date | string | number): void;
  /** Moves the clock forward by ms. */
  advance(ms: number): void;
  /** Puts the real Date back. */
  uninstall(): void;
}

function toMs(at: Date | string | number): number {
  const ms = at instanceof Date ? at.getTime() : typeof at === 'string' ? Date.parse(at) : at;
  if (!Number.isFinite(ms)) throw new TypeError(`fixed clock: not a time: ${String(at)}`);
  return ms;
}

/** Replaces the global Date with one whose "now" is `at` (until set/advance move it). */
export function installFixedClock(at: Date | string | number): FixedClock {
  const Real = globalThis.Date;
  if ((Real as { fixedClock?: boolean }).fixedClock) throw new Error('fixed clock: already installed');
  let t = toMs(at);
  const now = () => t;
  // A Proxy rather than a subclass: Date.prototype stays the same object, so `instanceof Date`
  // holds both for dates made before the swap and for dates made by code holding the real Date.
  const Fixed = new Proxy(Real, {
    construct(target, args, newTarget) {
      return Reflect.construct(target, args.length === 0 ? [t] : args, newTarget);
    },
    // Date() called as a function returns the current time as a string.
    apply() {
      return new Real(t).toString();
    },
    get(target, prop, receiver) {
      if (prop === 'now') return now;
      if (prop === 'fixedClock') return true;
      return Reflect.get(target, prop, receiver);
    },
  });
  globalThis.Date = Fixed;
  return {
    now,
    set(to) {
      t = toMs(to);
    },
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`fixed clock: advance by ${ms} ms`);
      t += ms;
    },
    uninstall() {
      if (globalThis.Date === Fixed) globalThis.Date = Real;
    },
  };
}
