import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandError, runCommand } from './runner.js';

test('runCommand returns output and streams lines split on \\r and \\n', async () => {
  const lines: string[] = [];
  const r = await runCommand(['sh', '-c', 'printf "a\\rb\\nc"; echo err >&2'], { onLine: (l) => lines.push(l) });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'a\rb\nc');
  assert.deepEqual(lines.sort(), ['a', 'b', 'c', 'err']);
});

test('runCommand puts stderr and exit code into the error', async () => {
  await assert.rejects(runCommand(['sh', '-c', 'echo boom >&2; exit 3']), (e: unknown) => {
    assert.ok(e instanceof CommandError);
    assert.equal(e.code, 3);
    assert.match(e.message, /exited with 3: boom/);
    return true;
  });
});

test('runCommand times out and aborts', async () => {
  await assert.rejects(runCommand(['sleep', '5'], { timeoutMs: 100 }), /timeout/);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(runCommand(['sleep', '5'], { signal: ac.signal }), /aborted/);
  await assert.rejects(runCommand(['/nonexistent/cmd']), /spawn/);
});

test('runCommand passes no shell: arguments are literal', async () => {
  const r = await runCommand(['echo', '$(id) ; ls']);
  assert.equal(r.stdout, '$(id) ; ls\n');
});
