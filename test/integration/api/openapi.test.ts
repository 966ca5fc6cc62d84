/** The OpenAPI document and the routes the server really answers match, both ways. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { EventEmitter } from 'node:events';
import { createApp } from '../../../server/api/app.js';
import { TokenService } from '../../../server/auth/tokens.js';
import { Health } from '../../../server/health.js';
import { NodeRegistry } from '../../../server/registry/nodes.js';
import { openSqliteStore } from '../../../server/store/sqlite/index.js';

test('every documented operation is routed, and every route is documented', async () => {
  const store = openSqliteStore(':memory:');
  const app = createApp(
    { store, registry: new NodeRegistry(store), tokens: new TokenService(store), health: new Health(), version: 'test', stuckAfterMs: 600_000, bus: new EventEmitter() },
    { bodyLimitBytes: 1 << 20, importLimitBytes: 1 << 20, log: pino({ level: 'silent' }) },
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  try {
    const doc = (await (await fetch(`http://127.0.0.1:${port}/api/v1/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters: { name: string; in: string }[] }>>;
    };
    assert.equal(doc.openapi, '3.1.0');
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        documented.add(`${method.toUpperCase()} ${path}`);
        for (const name of path.match(/\{(\w+)\}/g) ?? []) {
          assert.ok(op.parameters.some((p) => p.in === 'path' && `{${p.name}}` === name), `${method} ${path} documents ${name}`);
        }
        // A documented route must not fall through to the "no API route" 404.
        const url = path.replace(/\{\w+\}/g, 'x');
        const res = await fetch(`http://127.0.0.1:${port}/api/v1${url}`, { method: method.toUpperCase() });
        const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
        assert.ok(!/no API route/.test(body.error?.message ?? ''), `${method} ${path} is routed`);
      }
    }
    // The other way: walk express's router and compare.
    const routed = new Set<string>();
    const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
    type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle: { stack?: Layer[] } };
    const walk = (layers: Layer[]) => {
      for (const l of layers) {
        if (l.route) for (const m of Object.keys(l.route.methods)) routed.add(`${m.toUpperCase()} ${l.route.path.replace(/:(\w+)/g, '{$1}')}`);
        else if (l.handle.stack) walk(l.handle.stack);
      }
    };
    walk(stack);
    routed.delete('GET /openapi.json');
    assert.deepEqual([...routed].sort(), [...documented].sort());
  } finally {
    server.close();
    await store.close();
  }
});
