/** Structured logs: one JSON line per event on stdout (journald keeps them as they are). */
import { pino, type Logger } from 'pino';
import type { Config } from './config/schema.js';

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
