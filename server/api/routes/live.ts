import { z } from 'zod';
import { route } from '../route.js';
import type { ApiDeps } from '../deps.js';
import { macField } from '../../registry/fields.js';
import { presentEvent } from '../present.js';
import { bootState, type BootState } from '../../registry/boot-state.js';
import type { EventRecord } from '../../store/types.js';
import type { Discovery } from '../../../pxe/boot/events.js';

export function liveRoutes(d: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/events/stream',
      tag: 'events',
      summary: 'Boot events as they happen (server-sent events: `boot` and `discovered`), optionally for one MAC',
      access: 'read',
      query: z.strictObject({ mac: macField.optional() }),
      produces: 'text/event-stream',
      responses: { 200: 'An event stream' },
      async handle({ query, req, res }) {
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write(': netroot boot events\nretry: 2000\n\n');
        const onEvent = (e: EventRecord) => {
          if (!query.mac || e.mac === query.mac) res.write(`id: ${e.id}\nevent: boot\ndata: ${JSON.stringify(presentEvent(e))}\n\n`);
        };
        const onDiscovered = (x: Discovery) => {
          if (!query.mac || x.mac === query.mac) res.write(`event: discovered\ndata: ${JSON.stringify({ mac: x.mac, via: x.via, arch: x.arch })}\n\n`);
        };
        d.bus.on('event', onEvent);
        d.bus.on('discovered', onDiscovered);
        // Comments keep proxies and idle timers from closing a quiet stream.
        const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
        req.on('close', () => {
          clearInterval(beat);
          d.bus.off('event', onEvent);
          d.bus.off('discovered', onDiscovered);
        });
        return { handled: true };
      },
    }),
    route({
      method: 'get',
      path: '/stats',
      tag: 'events',
      summary: 'Dashboard counts: nodes by boot state, boots per hour (last 24 h), discovered MACs, transfers in flight',
      access: 'read',
      responses: { 200: '{nodes, bootsPerHour, discovered}' },
      async handle() {
        const now = Date.now();
        const [nodes, statuses, booted, discovered] = await Promise.all([
          d.store.nodes.all(),
          d.store.events.statusAll(),
          d.store.events.bootedSince(now - 24 * 3600_000),
          d.store.discovered.list(1, 0),
        ]);
        const byMac = new Map(statuses.map((s) => [s.mac, s]));
        const counts: Record<BootState, number> = { booted: 0, booting: 0, stuck: 0, never: 0 };
        let enabled = 0;
        for (const n of nodes) {
          counts[bootState(byMac.get(n.mac), now, d.stuckAfterMs)]++;
          if (n.enabled) enabled++;
        }
        const hourStart = Math.floor(now / 3600_000) * 3600_000;
        const perHour = Array.from({ length: 24 }, (_, i) => ({ hour: new Date(hourStart - (23 - i) * 3600_000).toISOString(), count: 0 }));
        for (const at of booted) {
          const i = 23 - Math.floor((hourStart - Math.floor(at / 3600_000) * 3600_000) / 3600_000);
          if (i >= 0 && i < 24) perHour[i]!.count++;
        }
        return { body: { nodes: { total: nodes.length, enabled, ...counts }, bootsPerHour: perHour, discovered: discovered.total, transfers: d.transfers?.() ?? { tftp: 0, http: 0 } } };
      },
    }),
  ];
}
