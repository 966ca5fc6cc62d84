import { z } from 'zod';
import { route } from '../route.js';
import type { ApiDeps } from '../deps.js';

export function systemRoutes(d: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/health',
      tag: 'system',
      summary: 'Health of each subsystem (no token needed)',
      access: 'public',
      responses: { 200: '{status, version, uptimeSec, subsystems}' },
      async handle() {
        return { body: { ...(await d.health.report()), version: d.version } };
      },
    }),
    route({
      method: 'get',
      path: '/whoami',
      tag: 'system',
      summary: 'The calling token: name and role',
      access: 'read',
      responses: { 200: '{name, role}' },
      async handle({ token }) {
        return { body: { name: token!.name, role: token!.role } };
      },
    }),
    route({
      method: 'get',
      path: '/audit',
      tag: 'system',
      summary: 'Audit log of changing requests, newest first (who, what, when, result)',
      access: 'read',
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(10_000).default(100), before: z.coerce.number().int().min(1).optional() }),
      responses: { 200: '{items}' },
      async handle({ query }) {
        const items = await d.store.audit.list(query.before === undefined ? { limit: query.limit } : { limit: query.limit, before: query.before });
        return { body: { items: items.map((a) => ({ ...a, at: new Date(a.at).toISOString() })) } };
      },
    }),
    route({
      method: 'get',
      path: '/security/events',
      tag: 'system',
      summary: 'Requests from the node network netroot refused as possible attacks (e.g. a "booted" report not from the node), newest first',
      access: 'read',
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(10_000).default(100), before: z.coerce.number().int().min(1).optional() }),
      responses: { 200: '{items, total}' },
      async handle({ query }) {
        const items = await d.store.security.list(query.before === undefined ? { limit: query.limit } : { limit: query.limit, before: query.before });
        return { body: { items: items.map((e) => ({ ...e, at: new Date(e.at).toISOString() })), total: await d.store.security.count() } };
      },
    }),
  ];
}
