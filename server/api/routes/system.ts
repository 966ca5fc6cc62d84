import { z } from 'zod';
import { route } from '../route.js';
import type { ApiDeps } from '../deps.js';
import { nameField } from '../../registry/fields.js';
import { conflict } from '../../errors.js';
import { UniqueViolation } from '../../store/types.js';

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
      path: '/images',
      tag: 'images',
      summary: 'List images',
      access: 'read',
      responses: { 200: '{items}' },
      async handle() {
        const items = await d.store.images.list();
        return { body: { items: items.map((i) => ({ name: i.name, host: i.host, activeVersion: i.activeVersion, createdAt: new Date(i.createdAt).toISOString() })) } };
      },
    }),
    route({
      method: 'post',
      path: '/images',
      tag: 'images',
      summary: 'Create an image (its versions come from golden-host pulls)',
      access: 'write',
      body: z.strictObject({ name: nameField }),
      responses: { 201: 'The image', 400: 'Invalid field', 409: 'Name taken' },
      async handle({ body }) {
        try {
          const i = await d.store.images.create(body.name);
          return { status: 201, body: { name: i.name, createdAt: new Date(i.createdAt).toISOString() } };
        } catch (e) {
          if (e instanceof UniqueViolation) throw conflict('name', `name: image ${body.name} exists already`);
          throw e;
        }
      },
    }),
  ];
}
