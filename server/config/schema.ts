/**
 * The one typed configuration. Every path and port comes from here, so tests run in a temp root
 * on high ports. Sections for subsystems grow with them; unknown keys are refused so a typo in
 * netroot.json fails at start, naming the field.
 */
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const level = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const configSchema = z.strictObject({
  /** Where netroot keeps its database, images, state dirs and TFTP root. Default depends on uid. */
  dataDir: z.string().min(1),
  http: z.strictObject({
    listen: z.string().min(1).default('127.0.0.1'),
    port: port.default(8080),
    /** Largest JSON body for ordinary API requests. */
    bodyLimitBytes: z.number().int().min(1024).default(1 << 20),
    /** Largest JSON body for bulk imports. */
    importLimitBytes: z.number().int().min(1024).default(32 << 20),
  }).prefault({}),
  log: z.strictObject({
    level: level.default('info'),
  }).prefault({}),
  events: z.strictObject({
    /** Keep at most this many timeline events per MAC (oldest dropped). */
    maxPerNode: z.number().int().min(10).default(1000),
    /** Drop events older than this. */
    maxAgeDays: z.number().min(0.001).default(30),
    /** A boot with no progress for this long is shown as stuck. */
    stuckAfterSec: z.number().int().min(10).default(600),
  }).prefault({}),
});

export type Config = z.infer<typeof configSchema>;
