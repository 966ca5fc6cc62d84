import { z } from 'zod';
import { route } from '../route.js';
import type { ApiDeps } from '../deps.js';
import { nodeCreateSchema, nodeImportSchema, nodePatchSchema } from '../../registry/schemas.js';
import { presentEvent, presentNode } from '../present.js';
import { nameField } from '../../registry/fields.js';
import { bootState } from '../../registry/boot-state.js';

const keyParams = z.strictObject({ key: z.string().min(1).max(253).describe('MAC address (any notation) or FQDN') });

const listQuery = z.strictObject({
  image: nameField.optional(),
  search: z.string().max(253).optional(),
  enabled: z.enum(['true', 'false']).transform((s) => s === 'true').optional(),
  state: z.enum(['booted', 'booting', 'stuck', 'never']).optional(),
  sort: z.enum(['fqdn', 'mac', 'ipv4', 'image', 'createdAt', 'updatedAt', 'lastEventAt']).default('fqdn'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

const eventsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10_000).default(200),
  after: z.coerce.number().int().min(0).optional().describe('only events with a larger id'),
});

export function nodeRoutes(d: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/nodes',
      tag: 'nodes',
      summary: 'List nodes (filter by image, enabled, boot state; search MAC/FQDN/IP; sort; page)',
      access: 'read',
      query: listQuery,
      responses: { 200: 'A page of nodes: {items, total, limit, offset}', 400: 'Invalid query' },
      async handle({ query }) {
        const { state, ...rest } = query;
        const page = await d.store.nodes.list({ ...rest, ...(state ? { state: { is: state, now: Date.now(), stuckAfterMs: d.stuckAfterMs } } : {}) });
        const st = await d.store.events.statusFor(page.items.map((n) => n.mac));
        const now = Date.now();
        const items = page.items.map((n) => presentNode(n, st.get(n.mac), bootState(st.get(n.mac), now, d.stuckAfterMs), d.registry.addressProblem(n.ipv4)));
        return { body: { items, total: page.total, limit: query.limit, offset: query.offset } };
      },
    }),
    route({
      method: 'post',
      path: '/nodes',
      tag: 'nodes',
      summary: 'Register a node',
      access: 'write',
      body: nodeCreateSchema,
      responses: { 201: 'The node', 400: 'Invalid field (ipv4 also when in no DHCP subnet, or a network, broadcast, router, netroot\'s own or pool address)', 409: 'MAC, FQDN or IP already used' },
      async handle({ body }) {
        return { status: 201, body: presentNode(await d.registry.create(body)) };
      },
    }),
    route({
      method: 'post',
      path: '/nodes/import',
      tag: 'nodes',
      summary: 'Register many nodes at once (JSON array; all or nothing)',
      access: 'write',
      body: nodeImportSchema,
      bodyLimit: 'import',
      responses: { 201: '{imported, nodes}', 400: 'Invalid field (named with its index)', 409: 'A conflict (named with its index)', 413: 'Body too large' },
      async handle({ body }) {
        const nodes = await d.registry.import(body);
        return { status: 201, body: { imported: nodes.length, nodes: nodes.map((n) => presentNode(n)) } };
      },
    }),
    route({
      method: 'get',
      path: '/nodes/{key}',
      tag: 'nodes',
      summary: 'One node by MAC or FQDN',
      access: 'read',
      params: keyParams,
      responses: { 200: 'The node', 404: 'No such node' },
      async handle({ params }) {
        const n = await d.registry.find(params.key);
        const st = (await d.store.events.statusFor([n.mac])).get(n.mac);
        return { body: presentNode(n, st, bootState(st, Date.now(), d.stuckAfterMs), d.registry.addressProblem(n.ipv4)) };
      },
    }),
    route({
      method: 'patch',
      path: '/nodes/{key}',
      tag: 'nodes',
      summary: 'Change a node (any subset of its fields)',
      access: 'write',
      params: keyParams,
      body: nodePatchSchema,
      responses: { 200: 'The node', 400: 'Invalid field', 404: 'No such node', 409: 'MAC, FQDN or IP already used' },
      async handle({ params, body }) {
        const n = await d.registry.update(params.key, body);
        return { body: presentNode(n, undefined, undefined, d.registry.addressProblem(n.ipv4)) };
      },
    }),
    route({
      method: 'delete',
      path: '/nodes/{key}',
      tag: 'nodes',
      summary: 'Delete a node (its state directory is archived, never deleted)',
      access: 'write',
      params: keyParams,
      responses: { 200: 'The deleted node', 404: 'No such node' },
      async handle({ params }) {
        return { body: presentNode(await d.registry.delete(params.key)) };
      },
    }),
    route({
      method: 'get',
      path: '/nodes/{key}/events',
      tag: 'nodes',
      summary: "The node's boot timeline, oldest first",
      access: 'read',
      params: keyParams,
      query: eventsQuery,
      responses: { 200: '{items}', 404: 'No such node' },
      async handle({ params, query }) {
        const n = await d.registry.find(params.key);
        const items = await d.store.events.listForMac(n.mac, query.after === undefined ? { limit: query.limit } : { limit: query.limit, afterId: query.after });
        return { body: { items: items.map(presentEvent) } };
      },
    }),
  ];
}
