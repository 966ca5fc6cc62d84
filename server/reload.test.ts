import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from './config/schema.js';
import { changedSections, restartNeeded } from './reload.js';

test('reload names what changed and what needs a restart', () => {
  const a = configSchema.parse({ dataDir: '/d' });
  const b = configSchema.parse({ dataDir: '/d', http: { port: 9000 }, dhcp: { interfaces: ['eth1'] }, log: { level: 'debug' } });
  assert.deepEqual(changedSections(a, b).sort(), ['dhcp', 'http', 'log']);
  assert.deepEqual(restartNeeded(a, b), ['http']);
  assert.deepEqual(changedSections(a, a), []);
});
