import { z } from 'zod';
import { route } from '../route.js';
import type { ApiDeps } from '../deps.js';
import { presentToken } from '../present.js';

const createBody = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, { message: "1-64 of letters, digits, '.', '_', '@', '-'" }),
  role: z.enum(['admin', 'readonly']).default('readonly'),
});

export function tokenRoutes(d: ApiDeps) {
  return [
    route({
      method: 'get',
      path: '/tokens',
      tag: 'tokens',
      summary: 'List API tokens (never their secrets)',
      access: 'read',
      responses: { 200: '{items}' },
      async handle() {
        return { body: { items: (await d.tokens.list()).map(presentToken) } };
      },
    }),
    route({
      method: 'post',
      path: '/tokens',
      tag: 'tokens',
      summary: 'Create a token; its secret is in this response only',
      access: 'write',
      body: createBody,
      responses: { 201: 'The token and its secret', 400: 'Invalid field', 409: 'Name taken' },
      async handle({ body }) {
        const { token, secret } = await d.tokens.create(body.name, body.role);
        return { status: 201, body: { ...presentToken(token), secret } };
      },
    }),
    route({
      method: 'delete',
      path: '/tokens/{key}',
      tag: 'tokens',
      summary: 'Revoke a token (by id or name)',
      access: 'write',
      params: z.strictObject({ key: z.string().min(1).max(64) }),
      responses: { 200: 'The revoked token', 404: 'No such token', 409: 'Already revoked' },
      async handle({ params }) {
        return { body: presentToken(await d.tokens.revoke(params.key)) };
      },
    }),
  ];
}
