/** Structured logs: one JSON line per event on stdout (journald keeps them as they are). */
import { pino, type Logger } from 'pino';
import type { Config } from './config/schema.js';
import { LogLimiter } from '../pxe/net/log-limit.js';

export function createLogger(cfg: Config['log'], dest: NodeJS.WritableStream = process.stdout): Logger {
  return pino(
    {
      level: cfg.level,
      base: { svc: 'netroot' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: ['secret', 'token.secret', 'req.headers.authorization'], censor: '[redacted]' },
    },
    dest as pino.DestinationStream,
  );
}

/**
 * A logger for a part that logs what unauthenticated clients cause (DHCP NAKs, declines,
 * refusals): its info and warn lines pass at most `perSecond` a second, the rest are counted and
 * the count rides on the next line that passes (pxe/net/log-limit.ts). Errors always pass.
 */
export function clientCausedLogger(log: Logger, perSecond = 20): Logger {
  const limit = new LogLimiter(perSecond);
  return new Proxy(log, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if ((prop !== 'info' && prop !== 'warn') || typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const extra = limit.take();
        if (!extra) return;
        if (Object.keys(extra).length && args.length && typeof args[0] === 'object' && args[0] !== null) args[0] = { ...(args[0] as object), ...extra };
        (v as (...a: unknown[]) => void).apply(target, args);
      };
    },
  });
}
