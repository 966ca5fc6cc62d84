import type { Health } from '../health.js';
import type { NodeRegistry } from '../registry/nodes.js';
import type { TokenService } from '../auth/tokens.js';
import type { Store } from '../store/types.js';
import type { EventEmitter } from 'node:events';
import type { RecorderEvents } from '../events/recorder.js';

/** What the API routes need; built by the composition root (server/main.ts). */
export interface ApiDeps {
  store: Store;
  registry: NodeRegistry;
  tokens: TokenService;
  health: Health;
  version: string;
  /** A boot with no progress for this long is "stuck". */
  stuckAfterMs: number;
  /** Live boot events and discoveries (from the recorder). */
  bus: EventEmitter<RecorderEvents>;
  /** Boot file transfers in progress (dashboard). */
  transfers?: () => { tftp: number; http: number };
}
