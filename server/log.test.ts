import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { clientCausedLogger, createLogger } from './log.js';

test('lines caused by clients are capped per second; errors always pass; the held-back count is said', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  const log = clientCausedLogger(createLogger({ level: 'info' } as never, sink).child({ part: 'dhcp' }), 5);
  for (let i = 0; i < 1000; i++) log.info({ mac: `m${i}` }, 'dhcp: NAK');
  log.error({ err: 'x' }, 'dhcp: packet handling failed');
  await new Promise((r) => setImmediate(r));
  const naks = lines.filter((l) => l.msg === 'dhcp: NAK');
  assert.ok(naks.length <= 10, `${naks.length} NAK lines for 1,000 NAKs`);
  assert.equal(lines.filter((l) => l.level === 'error').length, 1, 'errors are never held back');
  assert.equal(naks[0]!.part, 'dhcp', 'a child logger keeps its bindings');
  await new Promise((r) => setTimeout(r, 1100));
  log.info({ mac: 'late' }, 'dhcp: NAK');
  await new Promise((r) => setImmediate(r));
  const last = lines.filter((l) => l.msg === 'dhcp: NAK').at(-1)!;
  assert.equal(last.mac, 'late');
  assert.ok(Number(last.suppressedLines) >= 990, `held back: ${String(last.suppressedLines)}`);
});
