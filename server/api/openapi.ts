/** Generates the OpenAPI 3.1 document from the route table. */
import { z } from 'zod';
import type { RouteDef } from './route.js';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
    },
  },
};

function jsonSchema(s: z.ZodType): Record<string, unknown> {
  const j = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete j.$schema;
  return j;
}

function parameters(s: z.ZodType | undefined, where: 'path' | 'query') {
  if (!s) return [];
  const j = jsonSchema(s) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(j.properties ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    required: where === 'path' || (j.required ?? []).includes(name),
    schema,
  }));
}

export function openApiDocument(routes: RouteDef[], version: string, base = '/api/v1'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(r.responses)) {
      const n = Number(status);
      responses[status] =
        n >= 400
          ? { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
          : n === 204
            ? { description }
            : { description, content: { [r.produces ?? 'application/json']: {} } };
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method}${r.path.replace(/[{}]/g, '').replace(/\/(\w)/g, (_, c: string) => c.toUpperCase()).replace(/\W/g, '')}`,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses,
      security: r.access === 'public' ? [] : [{ bearer: [] }],
      'x-netroot-access': r.access,
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } };
    (paths[r.path] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'netroot API', version, description: 'Registry, images, exports and boot timelines of a netroot PXE/NFS boot server.' },
    servers: [{ url: base }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (nrt_...) from `netroot token create`.' } },
      schemas: { Error: errorSchema },
    },
  };
}
