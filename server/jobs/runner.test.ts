import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { openSqliteStore } from '../store/sqlite/index.js';
import { JobRunner } from './runner.js';

test('a job runs with log and progress, then succeeds with its result', async () => {
  const store = openSqliteStore(':memory:');
  const jobs = new JobRunner(store, pino({ level: 'silent' }));
  const j = await jobs.start('pull', 'image:a', 'admin', async (ctx) => {
    ctx.progress('rsync', { percent: 50, bytes: 10, rate: 5 });
    ctx.log('half way');
    ctx.progress('check');
    return { version: 'v1' };
  });
  assert.equal(j.state, 'queued');
  await jobs.wait(j.id);
  const done = (await store.jobs.get(j.id))!;
  assert.equal(done.state, 'succeeded');
  assert.deepEqual(done.result, { version: 'v1' });
  assert.equal(done.step, 'check');
  assert.match(done.log, /half way/);
  assert.ok(done.startedAt && done.finishedAt);
});

test('a failing job keeps its error in the log; a cancelled one is cancelled', async () => {
  const store = openSqliteStore(':memory:');
  const jobs = new JobRunner(store, pino({ level: 'silent' }));
  const f = await jobs.start('pull', 'image:a', null, async () => {
    throw new Error('rsync exited with 12');
  });
  await jobs.wait(f.id);
  const failed = (await store.jobs.get(f.id))!;
  assert.equal(failed.state, 'failed');
  assert.equal(failed.error, 'rsync exited with 12');
  assert.match(failed.log, /error: rsync exited with 12/);
  const c = await jobs.start('pull', 'image:b', null, (ctx) => new Promise((_, rej) => ctx.signal.addEventListener('abort', () => rej(new Error('aborted')))));
  assert.equal(jobs.cancel(c.id), true);
  await jobs.wait(c.id);
  assert.equal((await store.jobs.get(c.id))!.state, 'cancelled');
  assert.equal(jobs.cancel(c.id), false);
});
