import { z } from 'zod';
import { route } from '../route.js';
import type { ApiDeps } from '../deps.js';
import { macField } from '../../registry/fields.js';
import { registerDiscoveredSchema } from '../../registry/schemas.js';
import { presentDiscovered, presentNode } from '../present.js';
import { notFound } from '../../errors.js';

const macParams = z.strictObject({ mac: macField });
const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export function discoveredRoutes(d: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/discovered',
      tag: 'discovered',
      summary: 'MACs that asked to boot and are not registered, newest first',
      access: 'read',
      query: pageQuery,
      responses: { 200: '{items, total, limit, offset}' },
      async handle({ query }) {
        const page = await d.store.discovered.list(query.limit, query.offset);
        return { body: { items: page.items.map(presentDiscovered), total: page.total, limit: query.limit, offset: query.offset } };
      },
    }),
    route({
      method: 'post',
      path: '/discovered/{mac}/register',
      tag: 'discovered',
      summary: 'Register a discovered MAC as a node (removes it from the discovered list)',
      access: 'write',
      params: macParams,
      body: registerDiscoveredSchema,
      responses: { 201: 'The node', 400: 'Invalid field', 404: 'MAC not discovered', 409: 'FQDN or IP already used' },
      async handle({ params, body }) {
        if (!(await d.store.discovered.get(params.mac))) throw notFound(`discovered MAC ${params.mac}`);
        const node = await d.registry.create({ ...body, mac: params.mac });
        await d.store.discovered.delete(params.mac);
        return { status: 201, body: presentNode(node) };
      },
    }),
    route({
      method: 'delete',
      path: '/discovered/{mac}',
      tag: 'discovered',
      summary: 'Forget a discovered MAC',
      access: 'write',
      params: macParams,
      responses: { 204: 'Forgotten', 404: 'MAC not discovered' },
      async handle({ params }) {
        if (!(await d.store.discovered.delete(params.mac))) throw notFound(`discovered MAC ${params.mac}`);
        return { status: 204 };
      },
    }),
  ];
}
